"""Abstract bases every app may use, and the email outbox."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class NotContent:
    """Mixed into models that are records, not Wagtail content (clients, mailings,
    the sending journal, tokens, permissions, the outbox).

    Wagtail's reference index tracks every model it is asked to (ModelAdmin,
    snippets and viewsets register theirs) and then refreshes the index on each
    save and clears it on each delete: several queries per row, most of the
    cost of a small save. Nothing of ours is ever "used" by a page, so these
    models opt out: `ReferenceIndex.model_is_indexable` is False for them."""

    wagtail_reference_index_ignore = True


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        abstract = True


class OutgoingEmail(NotContent, models.Model):
    """An account email the site promised (verification, password reset, new
    address), written in the same transaction as the change that causes it and
    delivered by the worker (core.emails): the broker only wakes it up."""

    class State(models.TextChoices):
        PENDING = "pending", _("waiting")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")

    to = models.EmailField(_("to"), max_length=254)
    subject = models.CharField(_("subject"), max_length=255)
    body = models.TextField(_("body"))
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.PENDING)
    tries = models.PositiveSmallIntegerField(_("tries"), default=0)
    # When it is next due; moved forward while a worker holds it (a lease).
    next_try_at = models.DateTimeField(_("next try"), default=timezone.now)
    last_reply = models.TextField(_("last reply"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("outgoing email")
        verbose_name_plural = _("outgoing emails")
        indexes = [models.Index(fields=["state", "next_try_at"], name="outgoing_email_due")]

    def __str__(self):
        return f"{self.to}: {self.subject}"
