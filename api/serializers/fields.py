"""Field types shared by the API's serializers."""

from rest_framework import serializers

# Ids fit in a signed 64-bit integer: a bigger number is a 400, never a database error.
MAX_ID = 2**63 - 1


def id_field(**kwargs):
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)
