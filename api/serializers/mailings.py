from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from api.serializers.fields import StrictCharField, id_field
from mailings.models import Attempt, AttemptStatus, BodyFormat, Mailing, Message, Periodicity, Run, RunStatus
from mailings.rendering import check_body, check_subject

# Recipients named by id per request (one query); "all_clients" has no limit.
MAX_CLIENT_IDS = 10_000


class MessageSerializer(serializers.ModelSerializer):
    subject = StrictCharField(max_length=255)
    body = StrictCharField(
        help_text=_('Markdown (or plain text), with placeholders such as {{ full_name|default:"friend" }}.')
    )
    body_format = serializers.ChoiceField(choices=BodyFormat.choices, default=BodyFormat.MARKDOWN)

    class Meta:
        model = Message
        fields = ["id", "subject", "body", "body_format", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]

    def validate_subject(self, value):
        return check_subject(value)

    def validate_body(self, value):
        return check_body(value)


class PreviewParamsSerializer(serializers.Serializer):
    client = id_field(help_text=_("The client the preview is for (one of yours)."))


class PreviewSerializer(serializers.Serializer):
    from_email = serializers.CharField()
    to = serializers.EmailField()
    subject = serializers.CharField()
    body = serializers.CharField()
    html_body = serializers.CharField(allow_blank=True)


class MailingStatsSerializer(serializers.Serializer):
    """The reports page's row for one mailing."""

    runs = serializers.IntegerField(source="runs_total")
    recipients = serializers.IntegerField(source="recipients_total")
    sent = serializers.IntegerField(source="sent_total")
    failed = serializers.IntegerField(source="failed_total")
    attempts = serializers.IntegerField(source="attempts_total")
    suppressed = serializers.IntegerField(
        source="suppressed_total", help_text=_("Clients left out of runs because they had unsubscribed or bounced.")
    )
    success_rate = serializers.FloatField(allow_null=True, help_text=_("Percent; null before anything was sent."))
    last_run_at = serializers.DateTimeField(allow_null=True)


class MailingSerializer(serializers.ModelSerializer):
    message = id_field(source="message_id", help_text=_("One of your messages."))
    clients = serializers.ListField(
        child=id_field(),
        write_only=True,
        required=False,
        max_length=MAX_CLIENT_IDS,
        help_text=_("Ids of your clients who get it; ignored with all_clients."),
    )
    all_clients = serializers.BooleanField(
        write_only=True, required=False, default=False, help_text=_("Send to all your clients.")
    )
    periodicity = serializers.ChoiceField(choices=Periodicity.choices, default=Periodicity.ONCE)
    stats = MailingStatsSerializer(source="*", read_only=True)

    class Meta:
        model = Mailing
        fields = [
            "id",
            "owner",
            "message",
            "clients",
            "all_clients",
            "start_at",
            "end_at",
            "periodicity",
            "status",
            "is_active",
            "disabled_at",
            "disabled_reason",
            "next_run_at",
            "created_at",
            "updated_at",
            "stats",
        ]
        read_only_fields = [
            "id",
            "owner",
            "status",
            "is_active",
            "disabled_at",
            "disabled_reason",
            "next_run_at",
            "created_at",
            "updated_at",
        ]

    def validate(self, attrs):
        start_at = attrs.get("start_at", getattr(self.instance, "start_at", None))
        end_at = attrs.get("end_at", getattr(self.instance, "end_at", None))
        if start_at and end_at and end_at <= start_at:
            raise serializers.ValidationError(
                {"end_at": [serializers.ErrorDetail(_("The end time must be after the start time."), code="invalid")]}
            )
        return attrs


class ReasonSerializer(serializers.Serializer):
    reason = StrictCharField(max_length=2000, help_text=_("The owner sees this reason."))


class RunSerializer(serializers.ModelSerializer):
    class Meta:
        model = Run
        fields = [
            "id",
            "mailing",
            "scheduled_for",
            "status",
            "started_at",
            "finished_at",
            "recipients_count",
            "sent_count",
            "failed_count",
            "skipped_count",
            "deferred_since",
            "retry_at",
            "deferred_reason",
            "stop_reason",
        ]
        read_only_fields = fields


class RunFilterSerializer(serializers.Serializer):
    mailing = id_field(required=False)
    status = serializers.ChoiceField(choices=RunStatus.choices, required=False)
    started_after = serializers.DateTimeField(required=False)
    started_before = serializers.DateTimeField(required=False)


class AttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = Attempt
        fields = [
            "id",
            "mailing",
            "run",
            "client",
            "email",
            "attempted_at",
            "status",
            "is_temporary",
            "smtp_code",
            "server_reply",
        ]
        read_only_fields = fields


class AttemptFilterSerializer(serializers.Serializer):
    mailing = id_field(required=False)
    run = id_field(required=False)
    status = serializers.ChoiceField(choices=AttemptStatus.choices, required=False)
    since = serializers.DateTimeField(required=False, help_text=_("Attempts at or after this time."))
    until = serializers.DateTimeField(required=False, help_text=_("Attempts before this time."))


class RetryResultSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text=_("Recipients to be sent again."))


class ReportTotalsSerializer(serializers.Serializer):
    runs = serializers.IntegerField()
    sent = serializers.IntegerField()
    failed = serializers.IntegerField()
    attempts = serializers.IntegerField()
    suppressed = serializers.IntegerField()
    success_rate = serializers.FloatField(allow_null=True)
