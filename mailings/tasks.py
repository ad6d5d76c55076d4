"""Background work on django-q2: scheduling and sending (see the sending-engine issue)."""
