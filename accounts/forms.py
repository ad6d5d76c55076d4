from django import forms
from django.conf import settings
from django.contrib.auth import authenticate, password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm, SetPasswordForm
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.locale import time_zone_choices
from accounts.models import User
from accounts.services import mail_throttle_allows, send_account_email
from core.normalize import normalize_email

AVATAR_FORMATS = {"JPEG", "PNG", "GIF", "WEBP"}


class TimeZoneField(forms.TypedChoiceField):
    """An IANA zone name; static/js/timezone.js pre-selects the browser's own."""

    def __init__(self, *, from_browser=False, **kwargs):
        kwargs.setdefault("label", _("Time zone"))
        kwargs.setdefault("initial", settings.TIME_ZONE)
        # A form posted without it (an old page, a script) keeps the current or default zone.
        kwargs.setdefault("required", False)
        attrs = {"data-browser-time-zone": "true"} if from_browser else {}
        super().__init__(choices=time_zone_choices, widget=forms.Select(attrs=attrs), **kwargs)


class SignupForm(forms.Form):
    email = forms.EmailField(
        label=_("Email"), widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True})
    )
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label=_("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    time_zone = TimeZoneField(
        from_browser=True,
        help_text=_("Dates and times are shown in this zone. Filled in from your browser; change it if it is wrong."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.is_bound:
            # Shown again with errors: keep what the person chose over the browser's guess.
            self.fields["time_zone"].widget.attrs["data-user-chosen"] = "true"

    def clean_email(self):
        return normalize_email(self.cleaned_data["email"])

    def clean(self):
        cleaned = super().clean()
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", _("The two passwords differ."))
        elif password1:
            try:
                password_validation.validate_password(password1, User(email=cleaned.get("email", "")))
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class LoginForm(AuthenticationForm):
    """Login by email. The field keeps the name `username`: django-axes reads it."""

    username = forms.EmailField(
        label=_("Email"), widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True})
    )
    error_messages = {
        "invalid_login": _("Please enter a correct email and password. Both fields are case-sensitive."),
        "inactive": _("This account is inactive."),
        "blocked": _("Your account is blocked. Please contact support."),
        "unverified": _("Please verify your email address first: open the link we emailed you."),
    }

    def clean(self):
        email = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if email is not None and password:
            self.user_cache = authenticate(self.request, username=email, password=password)
            if self.user_cache is None:
                # Set by EmailBackend only after the right password was given.
                if getattr(self.request, "login_blocked", False):
                    raise forms.ValidationError(self.error_messages["blocked"], code="blocked")
                raise self.get_invalid_login_error()
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if user.is_blocked:
            raise forms.ValidationError(self.error_messages["blocked"], code="blocked")
        if not user.is_verified:
            self.unverified_email = user.email
            raise forms.ValidationError(self.error_messages["unverified"], code="unverified")


class ResendVerificationForm(forms.Form):
    email = forms.EmailField(label=_("Email"), widget=forms.EmailInput(attrs={"autocomplete": "email"}))

    def clean_email(self):
        return normalize_email(self.cleaned_data["email"])


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["first_name", "last_name", "company", "phone", "avatar", "language", "time_zone"]
        widgets = {"avatar": forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg,image/gif,image/webp"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"] = TimeZoneField(help_text=_("Dates and times are shown in this zone."))
        self.fields["language"].required = False
        self.fields["avatar"].help_text = _("JPEG, PNG, GIF or WebP, at most %(limit)s.") % {
            "limit": filesizeformat(settings.AVATAR_MAX_BYTES)
        }

    def clean_avatar(self):
        avatar = self.cleaned_data.get("avatar")
        # A new upload was already opened and checked by Pillow (forms.ImageField).
        image = getattr(avatar, "image", None)
        if image is None:
            return avatar
        if avatar.size > settings.AVATAR_MAX_BYTES:
            raise forms.ValidationError(
                _("The picture is %(size)s; the limit is %(limit)s."),
                code="too_large",
                params={"size": filesizeformat(avatar.size), "limit": filesizeformat(settings.AVATAR_MAX_BYTES)},
            )
        if image.format not in AVATAR_FORMATS:
            raise forms.ValidationError(_("Upload a JPEG, PNG, GIF or WebP picture."), code="format")
        return avatar


class SenderForm(forms.Form):
    sender_name = forms.CharField(
        label=_("Sender name"),
        max_length=100,
        required=False,
        help_text=_("Your mailings come from this name, for example your company. Empty: your company name."),
    )
    reply_to_email = forms.EmailField(
        label=_("Reply-to address"),
        required=False,
        help_text=_(
            "Replies to your mailings go here once you open the link we send to it. Empty: your account email."
        ),
    )

    def clean_sender_name(self):
        name = " ".join(self.cleaned_data["sender_name"].split())
        if any(c in name for c in '"<>@'):
            raise forms.ValidationError(_("A sender name cannot contain quotes, angle brackets or @."), code="chars")
        return name


class PasswordConfirmForm(forms.Form):
    """Asks for the current password before a sensitive change."""

    password = forms.CharField(
        label=_("Your password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self):
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(_("The password is not correct."), code="password_incorrect")
        return password


class EmailChangeForm(PasswordConfirmForm):
    new_email = forms.EmailField(label=_("New email"), widget=forms.EmailInput(attrs={"autocomplete": "email"}))

    field_order = ["new_email", "password"]

    def clean_new_email(self):
        email = normalize_email(self.cleaned_data["new_email"])
        if email == self.user.email:
            raise forms.ValidationError(_("This is already your address."), code="same")
        return email


class AccountDeleteForm(PasswordConfirmForm):
    pass


class MailsitePasswordResetForm(PasswordResetForm):
    """Django's reset form; its email leaves through django-q2 with links to SITE_URL."""

    def get_users(self, email):
        return (user for user in super().get_users(email) if not user.is_blocked)

    def send_mail(  # noqa: PLR0917 - Django's signature
        self,
        subject_template_name,
        email_template_name,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ):
        if not mail_throttle_allows(to_email, purpose="password-reset"):
            return  # the page answers the same; the address got a link less than a minute ago
        context = {
            **context,
            "link": settings.SITE_URL
            + reverse("accounts:password_reset_confirm", args=[context["uid"], context["token"]]),
        }
        send_account_email(
            to=to_email,
            recipient=context["user"],
            subject_template=subject_template_name,
            body_template=email_template_name,
            context=context,
        )


class MailsiteSetPasswordForm(SetPasswordForm):
    """The reset link reached the user's mailbox, so it proves the address too."""

    def save(self, commit=True):
        self.user.is_verified = True
        return super().save(commit=commit)


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=_("Token name"),
        max_length=100,
        help_text=_("Where the token is used, for example “CRM sync”."),
    )
