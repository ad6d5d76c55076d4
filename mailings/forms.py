"""Forms of the customer screens. They validate; the services write.

Every choice a form offers (messages, clients) comes from the owner's
selectors, so a form neither shows nor accepts someone else's objects.
"""

import calendar
from datetime import datetime, timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.forms import TimeZoneField
from accounts.locale import zone
from core.normalize import normalize_email
from mailings import selectors
from mailings.imports import OnExisting
from mailings.models import AttemptStatus, BodyFormat, Client, Mailing, Message, Periodicity
from mailings.rendering import check_body, check_subject

DATETIME_LOCAL_FORMAT = "%Y-%m-%dT%H:%M"
# The mailing form lists this many clients as checkboxes; beyond it the search
# box asks the server (a page with 100,000 checkboxes is 40 MB of HTML).
CLIENT_PICKER_LIMIT = 500
IMPORT_MAX_BYTES = 50 * 1024 * 1024


# Primary keys are BigAutoFields: a larger number is no key (and SQLite raises OverflowError on it).
PK_MAX = 2**63 - 1


def is_pk(value) -> bool:
    value = str(value)
    return value.isascii() and value.isdigit() and 0 < int(value) <= PK_MAX


class PrimaryKeysField(forms.ModelMultipleChoiceField):
    """Rejects what cannot be a primary key before asking the database."""

    def _check_values(self, value):
        for pk in value:
            if not is_pk(pk):
                raise ValidationError(
                    self.error_messages["invalid_pk_value"], code="invalid_pk_value", params={"pk": str(pk)[:40]}
                )
        return super()._check_values(value)


class ClientForm(forms.ModelForm):
    class Meta:
        model = Client
        fields = ["email", "full_name", "comment"]
        widgets = {"comment": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, owner, **kwargs):
        super().__init__(*args, **kwargs)
        self.owner = owner

    def clean_email(self):
        email = normalize_email(self.cleaned_data["email"])
        if selectors.client_email_taken(owner=self.owner, email=email, exclude_pk=self.instance.pk):
            raise ValidationError(_("You already have a client with this email."), code="duplicate")
        return email


class ClientImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "A header row naming the columns email, full name, comment and unsubscribed (yes marks the client "
            "unsubscribed; no or empty changes nothing); UTF-8 (with or without BOM); comma or semicolon separated."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )
    on_existing = forms.ChoiceField(
        label=_("Clients you already have"),
        choices=OnExisting.choices,
        initial=OnExisting.SKIP,
        widget=forms.RadioSelect,
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > IMPORT_MAX_BYTES:
            raise ValidationError(
                _("The file is larger than %(mb)s MB."), code="too_big", params={"mb": IMPORT_MAX_BYTES // 2**20}
            )
        return upload


class MessageForm(forms.ModelForm):
    class Meta:
        model = Message
        fields = ["subject", "body_format", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 14, "class": "font-monospace"})}
        help_texts = {
            "body": _(
                "Markdown: **bold**, *italic*, [link](https://example.com), # heading, - list. "
                "Placeholders: {{ full_name }}, {{ first_name }}, {{ email }}, "
                'with a default for an empty value: {{ first_name|default:"friend" }}.'
            )
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["body_format"].required = False

    def clean_body_format(self):
        return self.cleaned_data["body_format"] or BodyFormat.MARKDOWN

    def clean_subject(self):
        return check_subject(self.cleaned_data["subject"])

    def clean_body(self):
        return check_body(self.cleaned_data["body"])


class PreviewForm(forms.Form):
    """What the live preview renders: the unsaved form, for a client the user picks."""

    subject = forms.CharField(required=False, max_length=255)
    body = forms.CharField(required=False, strip=False)
    body_format = forms.ChoiceField(choices=BodyFormat.choices, required=False)
    preview_client = forms.ModelChoiceField(queryset=Client.objects.none(), required=False)

    def __init__(self, *args, owner, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["preview_client"].queryset = selectors.owned_clients(owner)


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format=DATETIME_LOCAL_FORMAT, **kwargs)


START_NOW, START_AT = "now", "at"


def default_end_at(start: datetime, periodicity: str, zone) -> datetime:
    """A sensible end: a one-off mailing gets a day to send, a recurring one a
    month of runs (the same wall-clock time a calendar month later)."""
    if periodicity == Periodicity.ONCE:
        return start + timedelta(days=1)
    local = start.astimezone(zone)
    year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    day = min(local.day, calendar.monthrange(year, month)[1])
    return local.replace(year=year, month=month, day=day).astimezone(start.tzinfo)


class MailingForm(forms.ModelForm):
    start_mode = forms.ChoiceField(
        label=_("Start"),
        choices=[(START_NOW, _("Start now")), (START_AT, _("At a set time"))],
        widget=forms.RadioSelect,
        required=False,
    )
    # Not a model field of the form: ModelForm would load every recipient as its initial value.
    clients = PrimaryKeysField(
        label=_("Clients"), queryset=Client.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    all_clients = forms.BooleanField(
        label=_("All my clients"),
        required=False,
        help_text=_("Send to every client you have now, however many; the list below is then ignored."),
    )

    class Meta:
        model = Mailing
        fields = ["message", "time_zone", "start_at", "end_at", "periodicity"]
        widgets = {"start_at": DateTimeLocalInput(), "end_at": DateTimeLocalInput()}
        help_texts = {
            "start_at": _("Used when “At a set time” is chosen; on the clock of the mailing's time zone."),
            "end_at": _(
                "No run starts after this time. Empty: one day after the start for a one-off mailing, "
                "a month for a recurring one."
            ),
        }

    def __init__(self, *args, owner, **kwargs):
        super().__init__(*args, **kwargs)
        self.owner = owner
        self.fields["message"].queryset = selectors.owned_messages(owner)
        self.fields["clients"].queryset = selectors.owned_clients(owner)
        self.fields["time_zone"] = TimeZoneField(
            initial=self.instance.time_zone if self.instance.pk else owner.time_zone,
            help_text=Mailing._meta.get_field("time_zone").help_text,
        )
        for name in ("start_at", "end_at"):
            self.fields[name].input_formats = [DATETIME_LOCAL_FORMAT, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]
            self.fields[name].required = False
            if self.instance.pk and not self.is_bound:
                # Shown on the mailing's own clock, naive, so the widget does not convert it again.
                value = timezone.localtime(getattr(self.instance, name), zone(self.instance.time_zone))
                self.initial[name] = value.replace(tzinfo=None)
        # A new mailing starts now unless told otherwise; an existing one keeps its time.
        self.initial.setdefault("start_mode", START_AT if self.instance.pk else START_NOW)
        if self.instance.pk and not self.is_bound:
            recipients = self.instance.clients.count()
            # A mailing to every client is shown as "All my clients", not as thousands of ticks.
            self.initial["all_clients"] = recipients > 0 and recipients == selectors.owned_clients(owner).count()

    def clean(self):
        cleaned = super().clean()
        mailing_zone = zone(cleaned.get("time_zone"))
        for name in ("start_at", "end_at"):
            # Django read the wall-clock time in the viewer's zone; it is meant in the mailing's.
            if cleaned.get(name):
                wall_clock = timezone.localtime(cleaned[name]).replace(tzinfo=None)
                cleaned[name] = timezone.make_aware(wall_clock, mailing_zone)
        mode = cleaned.get("start_mode") or (START_AT if self.data.get(self.add_prefix("start_at")) else START_NOW)
        cleaned["start_mode"] = mode
        if mode == START_NOW:
            cleaned["start_at"] = timezone.now().replace(microsecond=0)
        elif not cleaned.get("start_at") and "start_at" not in self.errors:
            self.add_error("start_at", _("Choose the start time, or “Start now”."))
        start_at, end_at = cleaned.get("start_at"), cleaned.get("end_at")
        if start_at and not end_at and "end_at" not in self.errors and cleaned.get("periodicity"):
            cleaned["end_at"] = end_at = default_end_at(start_at, cleaned["periodicity"], mailing_zone)
        if start_at and end_at and end_at <= start_at:
            self.add_error("end_at", _("The end time must be after the start time."))
        if not cleaned.get("all_clients") and not cleaned.get("clients") and "clients" not in self.errors:
            self.add_error("clients", _("Choose at least one client, or “All my clients”."))
        return cleaned

    @property
    def time_zone_name(self) -> str:
        return str(self["time_zone"].value() or "")

    def client_picker(self) -> dict:
        """The checkbox list: the first clients by email plus every ticked one, and the total."""
        queryset = self.fields["clients"].queryset.order_by("email", "pk")
        fields = ("pk", "email", "full_name")
        selected = self.selected_client_ids()
        choices = list(queryset.values_list(*fields)[:CLIENT_PICKER_LIMIT])
        missing = selected - {pk for pk, _email, _name in choices}
        if missing:
            choices = sorted([*choices, *queryset.filter(pk__in=missing).values_list(*fields)], key=lambda c: c[1])
        total = queryset.count() if len(choices) >= CLIENT_PICKER_LIMIT else len(choices)
        return {"choices": choices, "selected": selected, "total": total, "truncated": total > len(choices)}

    def selected_client_ids(self) -> set[int]:
        if self.is_bound:
            return {int(v) for v in self.data.getlist(self.add_prefix("clients")) if is_pk(v)}
        if self.instance.pk and not self.initial.get("all_clients"):
            return selectors.mailing_recipient_ids(self.instance)
        return set()

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "message": data["message"],
            "start_at": data["start_at"],
            "end_at": data["end_at"],
            "periodicity": data["periodicity"],
            "time_zone": data["time_zone"],
            "clients": list(data["clients"]) if not data["all_clients"] else [],
            "all_clients": data["all_clients"],
        }


class AttemptFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[("", _("All")), *AttemptStatus.choices])
