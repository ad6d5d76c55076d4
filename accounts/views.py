from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views import i18n as i18n_views
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import forms, selectors, services
from accounts.tokens import REPLY_TO, TokenError, read_verification_token
from core.cross_origin import cross_origin_protected

BACKEND = "accounts.backends.EmailBackend"


@require_http_methods(["GET", "POST"])
def signup(request):
    if request.user.is_authenticated:
        return redirect("mailings:dashboard")
    form = forms.SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.user_signup(
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password1"],
            language=get_language(),
            time_zone=form.cleaned_data["time_zone"],
        )
        request.session["signup_email"] = form.cleaned_data["email"]
        return redirect("accounts:signup_done")
    return render(request, "accounts/signup.html", {"form": form})


def signup_done(request):
    email = request.session.get("signup_email", "")
    resend_form = forms.ResendVerificationForm(initial={"email": email})
    return render(request, "accounts/signup_done.html", {"email": email, "resend_form": resend_form})


@require_GET  # not HEAD: link checkers that only peek must not use the link up
def verify(request, token):
    """Opening the emailed link verifies the address and logs the user in."""
    try:
        verification = read_verification_token(token)
    except TokenError as error:
        form = forms.ResendVerificationForm()
        return render(request, "accounts/verify_failed.html", {"reason": error.reason, "form": form}, status=400)
    user = verification.user
    if user.is_blocked or not user.is_active:
        return render(request, "accounts/blocked.html", status=403)
    changed = verification.email != user.email
    try:
        services.email_verify(user=user, email=verification.email)
    except services.EmailTakenError:
        return render(request, "accounts/verify_failed.html", {"reason": "taken"}, status=400)
    login(request, user, backend=BACKEND)
    if changed:
        messages.success(request, _("Your email address is now %(email)s.") % {"email": user.email})
        return redirect("accounts:profile")
    messages.success(request, _("Your email address is verified. Welcome to Mailsite!"))
    return redirect("mailings:dashboard")


@require_http_methods(["GET", "POST"])
def resend_verification(request):
    form = forms.ResendVerificationForm(request.POST or None, initial={"email": request.GET.get("email", "")})
    if request.method == "POST" and form.is_valid():
        if services.verification_resend(email=form.cleaned_data["email"]):
            messages.info(
                request,
                _(
                    "If %(email)s is waiting for verification, a new link is on its way. "
                    "Check your inbox and spam folder."
                )
                % {"email": form.cleaned_data["email"]},
            )
        else:
            messages.warning(request, _("A link was sent to this address a moment ago. Please wait a minute."))
        return redirect("accounts:resend_verification")
    return render(request, "accounts/resend_verification.html", {"form": form})


@cross_origin_protected
@require_POST
def set_language(request):
    """Django's set_language (cookie, redirect to the page in the new language),
    and for a logged-in user the profile's language too.

    No CSRF token: its form is on the pages stored for every visitor, so the
    browser's Sec-Fetch-Site / Origin headers guard it (core/cross_origin.py)."""
    language = request.POST.get("language")
    if language not in dict(settings.LANGUAGES):
        # Django would accept any language it has a catalogue for; we speak two.
        return redirect(_safe_next(request))
    response = i18n_views.set_language(request)
    if request.user.is_authenticated:
        services.user_locale_set(user=request.user, language=language)
    return response


def _safe_next(request) -> str:
    next_url = request.POST.get("next", "/")
    safe = url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return next_url if safe else "/"


class LoginView(auth_views.LoginView):
    form_class = forms.LoginForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def form_invalid(self, form):
        response = super().form_invalid(form)
        response.context_data["unverified_email"] = getattr(form, "unverified_email", "")
        return response


class LogoutView(auth_views.LogoutView):
    """Log out and say so on the page the user lands on."""

    def post(self, request, *args, **kwargs):
        was_logged_in = request.user.is_authenticated
        response = super().post(request, *args, **kwargs)
        if was_logged_in:
            messages.info(request, _("You are logged out."))
        return response


@login_required
@require_http_methods(["GET", "POST"])
def profile(request):
    user = request.user
    form = forms.ProfileForm(request.POST or None, request.FILES or None, instance=user)
    if request.method == "POST" and form.is_valid():
        services.user_profile_update(user=user, **form.cleaned_data)
        translation.activate(user.language)  # the confirmation speaks the language just chosen
        messages.success(request, _("Your profile is saved."))
        return redirect("accounts:profile")
    if request.method == "POST":
        user.refresh_from_db()  # the failed form changed the instance
    return _profile_page(request, form=form)


def _profile_page(request, *, form=None, token_form=None, new_token=None, status=200):
    user = request.user
    context = {
        "form": form or forms.ProfileForm(instance=user),
        "email_form": forms.EmailChangeForm(user=user),
        "sender_form": _sender_form(user),
        "token_form": token_form or forms.ApiTokenForm(),
        "api_tokens": selectors.api_tokens_of(user),
        "new_token": new_token,
    }
    return render(request, "accounts/profile.html", context, status=status)


@login_required
@require_http_methods(["POST"])
def api_token_create(request):
    """The new token is shown in this response only: it is never stored, so it cannot be shown again."""
    form = forms.ApiTokenForm(request.POST)
    if not form.is_valid():
        return _profile_page(request, token_form=form, status=400)
    issued = services.api_token_create(user=request.user, name=form.cleaned_data["name"])
    return _profile_page(request, new_token=issued)


@login_required
@require_http_methods(["POST"])
def api_token_revoke(request, pk):
    token = get_object_or_404(selectors.api_tokens_of(request.user), pk=pk)
    services.api_token_revoke(token=token)
    messages.success(request, _("The token “%(name)s” is revoked.") % {"name": token.name})
    return redirect("accounts:profile")


def _sender_form(user, data=None):
    return forms.SenderForm(data, initial={"sender_name": user.sender_name, "reply_to_email": user.reply_to_email})


@login_required
@require_http_methods(["GET", "POST"])
def sender(request):
    form = _sender_form(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = request.user
        if not services.sender_update(user=user, **form.cleaned_data):
            messages.warning(request, _("A link was sent to this address a moment ago. Please wait a minute."))
        elif user.reply_to_email and not user.reply_to_verified:
            messages.info(
                request,
                _("Sender saved. We sent a link to %(email)s: replies go there once you open it.")
                % {"email": user.reply_to_email},
            )
        else:
            messages.success(request, _("Sender saved."))
        return redirect("accounts:profile")
    return render(request, "accounts/sender.html", {"form": form})


@require_GET  # not HEAD: link checkers that only peek must not use the link up
def verify_reply_to(request, token):
    """Opening the emailed link proves the customer reads their reply-to address."""
    try:
        verification = REPLY_TO.read(token)
    except TokenError as error:
        return render(request, "accounts/verify_failed.html", {"reason": error.reason}, status=400)
    if verification.email != verification.user.reply_to_email:
        return render(request, "accounts/verify_failed.html", {"reason": TokenError.USED}, status=400)
    services.reply_to_verify(user=verification.user, email=verification.email)
    messages.success(request, _("Replies to your mailings now go to %(email)s.") % {"email": verification.email})
    return redirect("accounts:profile" if request.user.is_authenticated else "accounts:login")


@login_required
@require_http_methods(["GET", "POST"])
def email_change(request):
    form = forms.EmailChangeForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        new_email = form.cleaned_data["new_email"]
        if services.email_change_request(user=request.user, new_email=new_email):
            messages.info(
                request,
                _("We sent a link to %(email)s. Your address changes when you open it.") % {"email": new_email},
            )
        else:
            messages.warning(request, _("A link was sent to this address a moment ago. Please wait a minute."))
        return redirect("accounts:profile")
    return render(request, "accounts/email_change.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def account_delete(request):
    form = forms.AccountDeleteForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        services.user_delete(user=request.user)
        logout(request)
        messages.info(request, _("Your account and all its data are deleted."))
        return redirect("/")
    return render(request, "accounts/delete.html", {"form": form})


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change_form.html"
    success_url = reverse_lazy("accounts:password_change_done")


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "accounts/password_change_done.html"


class PasswordResetView(auth_views.PasswordResetView):
    form_class = forms.MailsitePasswordResetForm
    template_name = "registration/password_reset_form.html"
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    form_class = forms.MailsiteSetPasswordForm
    template_name = "registration/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")
