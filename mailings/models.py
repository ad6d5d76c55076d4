"""The mailing domain: clients, messages, mailings, and the record of sending.

Ownership is kept twice on purpose: `owner` says who made a row (and what goes
when an account is deleted); django-guardian's object permissions, stored in
the direct foreign-key tables at the bottom of this module, say who may see and
change it. Every read goes through `mailings.selectors`.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from accounts.models import default_time_zone, validate_time_zone
from core.models import NotContent, TimeStampedModel
from core.normalize import normalize_email


class UnsubscribeSource(models.TextChoices):
    LINK = "link", _("Unsubscribe page")
    ONE_CLICK = "one_click", _("One-click unsubscribe")
    EMAIL = "email", _("Unsubscribe email")
    OWNER = "owner", _("By you")
    IMPORT = "import", _("CSV import")


class Client(NotContent, TimeStampedModel):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="clients", verbose_name=_("owner")
    )
    email = models.EmailField(_("email"))
    full_name = models.CharField(_("full name"), max_length=255, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    # Suppression: set by the recipient (unsubscribe link), the owner or an
    # import; cleared only by the owner's explicit re-subscribe.
    unsubscribed_at = models.DateTimeField(_("unsubscribed"), null=True, blank=True)
    unsubscribe_source = models.CharField(
        _("unsubscribed by"), max_length=10, choices=UnsubscribeSource.choices, blank=True
    )
    # Hard bounces ("mailbox does not exist") counted once per run; two mark the client bounced.
    hard_bounces = models.PositiveSmallIntegerField(_("hard bounces"), default=0)
    last_bounce_run_id = models.BigIntegerField(null=True, blank=True, editable=False)
    bounced_at = models.DateTimeField(_("bounced"), null=True, blank=True)
    bounce_reply = models.TextField(_("bounce reply"), blank=True)

    class Meta:
        verbose_name = _("client")
        verbose_name_plural = _("clients")
        ordering = ["email", "id"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "email"], name="client_unique_email_per_owner"),
        ]

    def __str__(self):
        return f"{self.full_name} <{self.email}>" if self.full_name else self.email

    def save(self, *args, **kwargs):
        self.email = normalize_email(self.email)
        super().save(*args, **kwargs)

    @property
    def is_suppressed(self) -> bool:
        return bool(self.unsubscribed_at or self.bounced_at)


class BodyFormat(models.TextChoices):
    MARKDOWN = "markdown", _("Markdown")
    TEXT = "text", _("Plain text")


class Message(NotContent, TimeStampedModel):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="messages", verbose_name=_("owner")
    )
    subject = models.CharField(_("subject"), max_length=255)
    body = models.TextField(_("body"))
    # Messages written before Markdown keep being sent as the plain text they are.
    body_format = models.CharField(_("format"), max_length=10, choices=BodyFormat.choices, default=BodyFormat.MARKDOWN)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["owner", "-created_at"], name="message_owner_created")]

    def __str__(self):
        return self.subject


class Periodicity(models.TextChoices):
    ONCE = "once", _("Once")
    DAILY = "daily", _("Daily")
    WEEKLY = "weekly", _("Weekly")
    MONTHLY = "monthly", _("Monthly")


class MailingStatus(models.TextChoices):
    """What the mailing is doing; decided from the facts in `mailings.transitions`."""

    CREATED = "created", _("Created")
    RUNNING = "running", _("Running")
    PAUSED = "paused", _("Paused")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


class Mailing(NotContent, TimeStampedModel):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mailings", verbose_name=_("owner")
    )
    message = models.ForeignKey(Message, on_delete=models.PROTECT, related_name="mailings", verbose_name=_("message"))
    clients = models.ManyToManyField(Client, related_name="mailings", blank=True, verbose_name=_("clients"))
    start_at = models.DateTimeField(_("start time"))
    end_at = models.DateTimeField(_("end time"))
    periodicity = models.CharField(
        _("periodicity"), max_length=10, choices=Periodicity.choices, default=Periodicity.ONCE
    )
    status = models.CharField(_("status"), max_length=10, choices=MailingStatus.choices, default=MailingStatus.CREATED)
    # The schedule keeps this zone's wall clock: a daily 09:00 stays 09:00 there across DST.
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        default=default_time_zone,
        validators=[validate_time_zone],
        help_text=_("The start and end times are in this zone, and the schedule keeps its clock."),
    )
    # Managers turn a mailing off; the owner sees who, when and why.
    is_active = models.BooleanField(_("active"), default=True)
    disabled_at = models.DateTimeField(_("disabled at"), null=True, blank=True)
    disabled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("disabled by"),
    )
    disabled_reason = models.TextField(_("reason for disabling"), blank=True)
    # The scheduler's source of truth: when this mailing is next due.
    next_run_at = models.DateTimeField(_("next run"), null=True, blank=True)
    # The owner's controls (see mailings.transitions): a paused mailing starts
    # nothing and its run waits; a cancelled one never sends again.
    paused_at = models.DateTimeField(_("paused at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)

    class Meta:
        verbose_name = _("mailing")
        verbose_name_plural = _("mailings")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(end_at__gt=F("start_at")), name="mailing_end_after_start"),
        ]
        indexes = [
            models.Index(fields=["owner", "status"], name="mailing_owner_status"),
            models.Index(fields=["status", "is_active", "next_run_at"], name="mailing_due"),
        ]
        permissions = [("disable_mailing", _("Can disable and enable mailings"))]

    def __str__(self):
        return f"#{self.pk} {self.message.subject}" if self.message_id else f"#{self.pk}"


class RunStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    DEFERRED = "deferred", _("Deferred")
    PAUSED = "paused", _("Paused")
    FINISHED = "finished", _("Finished")
    STOPPED = "stopped", _("Stopped")
    CANCELLED = "cancelled", _("Cancelled")


# A run still alive: a paused one holds its recipients until it is resumed or cancelled.
ACTIVE_RUN_STATUSES = (RunStatus.PENDING, RunStatus.SENDING, RunStatus.DEFERRED, RunStatus.PAUSED)


class Run(NotContent, models.Model):
    """One sending of a mailing: its recipients are fixed when it starts."""

    mailing = models.ForeignKey(Mailing, on_delete=models.CASCADE, related_name="runs", verbose_name=_("mailing"))
    # The schedule slot this run serves; one run per slot.
    scheduled_for = models.DateTimeField(_("scheduled for"))
    status = models.CharField(_("status"), max_length=10, choices=RunStatus.choices, default=RunStatus.PENDING)
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    recipients_count = models.PositiveIntegerField(_("recipients"), default=0)
    sent_count = models.PositiveIntegerField(_("sent"), default=0)
    failed_count = models.PositiveIntegerField(_("failed"), default=0)
    # Set while the mail server cannot be reached at all.
    deferred_since = models.DateTimeField(_("deferred since"), null=True, blank=True)
    retry_at = models.DateTimeField(_("retry at"), null=True, blank=True)
    defer_count = models.PositiveIntegerField(_("deferrals"), default=0)
    deferred_reason = models.TextField(_("deferred because"), blank=True)
    stop_reason = models.TextField(_("stop reason"), blank=True)
    skipped_count = models.PositiveIntegerField(_("not sent"), default=0)
    # Paused by the owner (no time) or by the daily quota (until the owner's next day).
    paused_until = models.DateTimeField(_("paused until"), null=True, blank=True)
    pause_reason = models.TextField(_("pause reason"), blank=True)
    # A site-wide sending limit was reached: chunks start again at this time.
    waiting_until = models.DateTimeField(_("waiting for the sending limit until"), null=True, blank=True)
    # Of those, left out at the start because they unsubscribed or bounced.
    suppressed_count = models.PositiveIntegerField(_("left out"), default=0)
    # Touched by every chunk at work; the sweeper re-enqueues chunks of a run
    # whose heartbeat went quiet (a lost broker message, a killed cluster).
    heartbeat_at = models.DateTimeField(_("heartbeat"), null=True, blank=True)

    class Meta:
        verbose_name = _("run")
        verbose_name_plural = _("runs")
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["mailing", "scheduled_for"], name="run_one_per_slot"),
        ]
        indexes = [
            models.Index(fields=["mailing", "-started_at"], name="run_mailing_started"),
            models.Index(fields=["status", "retry_at"], name="run_status_retry"),
        ]

    def __str__(self):
        return f"Run {self.pk} of mailing {self.mailing_id}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_RUN_STATUSES

    @property
    def deferred_notice(self) -> str:
        """What the mailing page shows while the mail server cannot be reached."""
        if self.status != RunStatus.DEFERRED or not self.deferred_since:
            return ""
        since = date_format(timezone.localtime(self.deferred_since), "DATETIME_FORMAT")
        return _("delivery deferred: mail server unavailable since %(since)s") % {"since": since}


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    RETRY = "retry", _("Waiting to retry")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Not sent")


class Delivery(NotContent, models.Model):
    """A recipient of a run and where its sending stands; workers claim these."""

    # No index of its own: delivery_claimable and the (run, client) constraint start with run.
    run = models.ForeignKey(
        Run, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("run"), db_index=False
    )
    client = models.ForeignKey(
        Client, on_delete=models.SET_NULL, null=True, related_name="deliveries", verbose_name=_("client")
    )
    email = models.EmailField(_("email"))
    state = models.CharField(_("state"), max_length=10, choices=DeliveryState.choices, default=DeliveryState.PENDING)
    tries = models.PositiveSmallIntegerField(_("tries"), default=0)
    next_try_at = models.DateTimeField(_("next try"), null=True, blank=True)
    claim_token = models.CharField(max_length=64, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_reply = models.TextField(_("last reply"), blank=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        constraints = [
            models.UniqueConstraint(fields=["run", "client"], name="delivery_one_per_client_and_run"),
        ]
        indexes = [models.Index(fields=["run", "state", "next_try_at"], name="delivery_claimable")]

    def __str__(self):
        return f"{self.email} ({self.state}) in run {self.run_id}"


class AttemptStatus(models.TextChoices):
    SUCCESS = "success", _("Success")
    FAILED = "failed", _("Failed")


class Attempt(NotContent, models.Model):
    """One try at sending one message to one client, with the server's reply."""

    # Mailing and run need no index of their own: the indexes below start with them, and
    # every index costs each message's journal INSERT.
    mailing = models.ForeignKey(
        Mailing, on_delete=models.CASCADE, related_name="attempts", verbose_name=_("mailing"), db_index=False
    )
    run = models.ForeignKey(
        Run, on_delete=models.CASCADE, related_name="attempts", verbose_name=_("run"), db_index=False
    )
    client = models.ForeignKey(
        Client, on_delete=models.SET_NULL, null=True, related_name="attempts", verbose_name=_("client")
    )
    email = models.EmailField(_("email"))
    attempted_at = models.DateTimeField(_("time"), default=timezone.now)
    status = models.CharField(_("status"), max_length=10, choices=AttemptStatus.choices)
    is_temporary = models.BooleanField(_("temporary failure"), default=False)
    smtp_code = models.PositiveSmallIntegerField(_("SMTP code"), null=True, blank=True)
    server_reply = models.TextField(_("server reply"), blank=True)
    # Which worker sent it ("node:pid"), so a multi-cluster run can be audited.
    sent_by = models.CharField(_("sent by"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("attempt")
        verbose_name_plural = _("attempts")
        ordering = ["-attempted_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "client"],
                condition=Q(status="success"),
                name="attempt_one_success_per_client_and_run",
            ),
        ]
        indexes = [
            models.Index(fields=["mailing", "status", "-attempted_at"], name="attempt_mailing_status_time"),
            models.Index(fields=["mailing", "-attempted_at"], name="attempt_mailing_time"),
            models.Index(fields=["run", "client"], name="attempt_run_client"),
            models.Index(fields=["attempted_at", "status"], name="attempt_time_status"),
        ]

    def __str__(self):
        return f"{self.email} {self.status} at {self.attempted_at:%Y-%m-%d %H:%M}"


class RateCounter(NotContent, models.Model):
    """One window of a sending limit, when the limiter has no Redis (see
    mailings.engine.limits): how many messages were taken in it."""

    key = models.CharField(max_length=100, unique=True)
    count = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self):
        return f"{self.key}={self.count}"


# django-guardian object permissions in direct foreign-key tables: faster than
# the generic tables and the rows go away with their object.
class ClientUserObjectPermission(NotContent, UserObjectPermissionBase):
    content_object = models.ForeignKey(Client, on_delete=models.CASCADE)


class ClientGroupObjectPermission(NotContent, GroupObjectPermissionBase):
    content_object = models.ForeignKey(Client, on_delete=models.CASCADE)


class MessageUserObjectPermission(NotContent, UserObjectPermissionBase):
    content_object = models.ForeignKey(Message, on_delete=models.CASCADE)


class MessageGroupObjectPermission(NotContent, GroupObjectPermissionBase):
    content_object = models.ForeignKey(Message, on_delete=models.CASCADE)


class MailingUserObjectPermission(NotContent, UserObjectPermissionBase):
    content_object = models.ForeignKey(Mailing, on_delete=models.CASCADE)


class MailingGroupObjectPermission(NotContent, GroupObjectPermissionBase):
    content_object = models.ForeignKey(Mailing, on_delete=models.CASCADE)
