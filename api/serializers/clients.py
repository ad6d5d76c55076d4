from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from api.serializers.fields import StrictCharField
from mailings.imports import EMAIL_MAX_LENGTH, FULL_NAME_MAX_LENGTH, OnExisting
from mailings.models import Client

BULK_MAX_ROWS = 10_000


class ClientSerializer(serializers.ModelSerializer):
    email = serializers.EmailField(max_length=EMAIL_MAX_LENGTH)
    full_name = StrictCharField(max_length=FULL_NAME_MAX_LENGTH, required=False, allow_blank=True, default="")
    comment = StrictCharField(required=False, allow_blank=True, default="")

    class Meta:
        model = Client
        fields = [
            "id",
            "email",
            "full_name",
            "comment",
            "unsubscribed_at",
            "unsubscribe_source",
            "bounced_at",
            "created_at",
            "updated_at",
        ]
        # Leaving is the recipient's act (or the owner's, confirmed on the screens): never an edit.
        read_only_fields = ["id", "unsubscribed_at", "unsubscribe_source", "bounced_at", "created_at", "updated_at"]


class ClientFilterSerializer(serializers.Serializer):
    email = serializers.CharField(
        required=False, max_length=EMAIL_MAX_LENGTH, help_text=_("Exact email address (case and spaces ignored).")
    )
    unsubscribed = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text=_("true: only unsubscribed clients; false: only the others."),
    )
    bounced = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text=_("true: only bounced clients; false: only the others."),
    )


class BulkClientRowSerializer(serializers.Serializer):
    """One row of a bulk upsert, for the schema: rows are checked by
    mailings.imports.validate_client_row, like the CSV import's."""

    email = serializers.EmailField()
    full_name = serializers.CharField(required=False, max_length=FULL_NAME_MAX_LENGTH)
    comment = serializers.CharField(required=False)


class BulkUpsertSerializer(serializers.Serializer):
    clients = serializers.ListField(
        child=serializers.JSONField(), max_length=BULK_MAX_ROWS, help_text=_("Up to 10,000 clients.")
    )
    on_existing = serializers.ChoiceField(
        choices=OnExisting.choices,
        default=OnExisting.UPDATE,
        help_text=_("What to do with a client you already have (same email): update it or skip it."),
    )


class BulkRowErrorSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text=_("Position of the row in `clients`, from 0."))
    field = serializers.CharField(allow_blank=True)
    code = serializers.CharField()
    message = serializers.CharField()
    value = serializers.CharField(allow_blank=True)


class BulkReportSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    skipped = serializers.IntegerField()
    error_count = serializers.IntegerField()
    errors = BulkRowErrorSerializer(many=True, help_text=_("The first 1,000 rejected rows."))
