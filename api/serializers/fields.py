"""Field types shared by the API's serializers."""

from rest_framework import serializers

# Ids fit in a signed 64-bit integer: a bigger number is a 400, never a database error.
MAX_ID = 2**63 - 1


def id_field(**kwargs):
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


class StrictCharField(serializers.CharField):
    """Text must be a JSON string: DRF's CharField would turn 12 into "12"."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)
