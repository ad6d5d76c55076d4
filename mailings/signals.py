"""Signals of the mailing domain.

`mailings_changed` is sent after writes that bypass model signals (bulk
`update()` calls by the sending engine, imports), so caches of service-wide
numbers (the home page) can be invalidated. Model saves and deletes fire
Django's own post_save / post_delete as usual.
"""

from django.dispatch import Signal

mailings_changed = Signal()
