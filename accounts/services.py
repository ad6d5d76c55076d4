"""Writes to accounts. Views, the Wagtail admin and commands call these."""

import hashlib
import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from wagtail.log_actions import log

from accounts.locale import speaking_to
from accounts.models import ApiToken, User
from accounts.tokens import REPLY_TO, api_token_hash, make_verification_token, new_api_token_secret
from core.emails import send_email_later
from core.normalize import normalize_email
from mailings import services as mailing_services
from mailings.models import Mailing

logger = logging.getLogger(__name__)

THROTTLE_KEY_PREFIX = "accounts:mail-throttle:"

# Role name (as `set_role` takes it) -> its group; customers have no role group.
ROLE_GROUPS = {"manager": "Managers", "editor": "Content editors", "customer": None}


class EmailTakenError(Exception):
    """The address belongs to another account."""


@transaction.atomic
def user_block(*, user: User, by=None, reason: str = "") -> User:
    """A blocked user cannot log in, loses open sessions at the next request
    (BlockedUserMiddleware) and their mailings send nothing more."""
    user.is_blocked = True
    user.blocked_at = timezone.now()
    user.blocked_reason = reason
    user.save(update_fields=["is_blocked", "blocked_at", "blocked_reason"])
    mailing_services.owner_mailings_replan(owner=user)  # their runs stop
    # The audit trail is written here so that every path (admin, command) logs.
    log(instance=user, action="mailsite.user.block", user=by, data={"reason": reason})
    return user


@transaction.atomic
def user_unblock(*, user: User, by=None) -> User:
    user.is_blocked = False
    user.blocked_at = None
    user.blocked_reason = ""
    user.save(update_fields=["is_blocked", "blocked_at", "blocked_reason"])
    mailing_services.owner_mailings_replan(owner=user)  # their mailings are scheduled again
    log(instance=user, action="mailsite.user.unblock", user=by, data={})
    return user


@transaction.atomic
def user_set_daily_quota(*, user: User, by=None, quota: int | None) -> User:
    """A manager sets how many messages a customer's mailings may send per day (None: unlimited)."""
    user.daily_quota = quota
    user.save(update_fields=["daily_quota"])
    log(instance=user, action="mailsite.user.quota", user=by, data={"quota": quota})
    return user


def mail_throttle_allows(email: str, *, purpose: str = "verify") -> bool:
    """At most one account email per address and purpose per ACCOUNT_RESEND_THROTTLE_SECONDS.

    cache.add is atomic in every backend we use, so two processes never both
    win. A cache outage (django-redis returns None) lets the mail through."""
    key = f"{THROTTLE_KEY_PREFIX}{purpose}:" + hashlib.sha256(normalize_email(email).encode()).hexdigest()
    return cache.add(key, 1, timeout=settings.ACCOUNT_RESEND_THROTTLE_SECONDS) is not False


def send_account_email(*, to: str, recipient: User | None, subject_template: str, body_template: str, context: dict):
    """Render an account email in the recipient's language and time zone and queue it."""
    context = {"site_url": settings.SITE_URL, **context}
    with speaking_to(recipient):
        subject = "".join(render_to_string(subject_template, context).splitlines()).strip()
        body = render_to_string(body_template, context)
    send_email_later(to=to, subject=subject, body=body)


def _send(*, to: str, template: str, context: dict, recipient: User | None) -> None:
    send_account_email(
        to=to,
        recipient=recipient,
        subject_template=f"accounts/email/{template}_subject.txt",
        body_template=f"accounts/email/{template}_body.txt",
        context=context,
    )


def verification_send(*, user: User, email: str | None = None) -> None:
    """Queue the email with a verification link for `email` (default: the user's own address)."""
    email = email or user.email
    token = make_verification_token(user, email=email)
    _send(
        to=email,
        template="verify" if email == user.email else "email_change",
        context={
            "user": user,
            "email": email,
            "link": settings.SITE_URL + reverse("accounts:verify", args=[token]),
            "max_age_days": settings.ACCOUNT_VERIFICATION_MAX_AGE // 86400,
            "max_age_hours": settings.ACCOUNT_VERIFICATION_MAX_AGE // 3600,
        },
        recipient=user,
    )


def user_signup(*, email: str, password: str, language: str = "", time_zone: str = "") -> User | None:
    """Create an unverified account and send its verification link.

    Returns None when the address was already registered; the caller answers
    the same either way, and the address's owner gets a note instead."""
    email = normalize_email(email)
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                email=email,
                password=password,
                is_verified=False,
                language=language or settings.LANGUAGE_CODE,
                time_zone=time_zone or settings.TIME_ZONE,
            )
            user_locale_set(user=user)
    except IntegrityError:
        existing = User.objects.filter(email=email).first()
        if existing is not None and not existing.is_blocked and mail_throttle_allows(email):
            if existing.is_verified:
                _send(to=email, template="already_registered", context={"user": existing}, recipient=existing)
            else:
                verification_send(user=existing)
        return None
    mail_throttle_allows(email)  # starts the re-send clock
    verification_send(user=user)
    return user


def verification_resend(*, email: str) -> bool:
    """Send a new link if the address waits for verification.

    Returns False only when throttled, which is the same for every address,
    so the answer never tells whether the address is registered."""
    email = normalize_email(email)
    if not mail_throttle_allows(email):
        return False
    user = User.objects.filter(email=email, is_verified=False, is_blocked=False, is_active=True).first()
    if user is not None:
        verification_send(user=user)
    return True


def email_change_request(*, user: User, new_email: str) -> bool:
    """Send a link to the new address; the change applies when it is opened.

    Returns False when throttled. If the new address belongs to someone else,
    that address gets a note instead, so the form tells nothing about it."""
    new_email = normalize_email(new_email)
    if not mail_throttle_allows(new_email):
        return False
    owner = User.objects.filter(email=new_email).exclude(pk=user.pk).first()
    if owner is not None:
        _send(to=new_email, template="email_in_use", context={"email": new_email}, recipient=owner)
    else:
        verification_send(user=user, email=new_email)
    return True


def email_verify(*, user: User, email: str) -> User:
    """Mark `email` verified for `user`, changing the user's address to it if needed."""
    email = normalize_email(email)
    old_email = user.email
    try:
        with transaction.atomic():
            if email != old_email and User.objects.filter(email=email).exclude(pk=user.pk).exists():
                raise EmailTakenError(email)
            user.email = email
            user.is_verified = True
            user.save(update_fields=["email", "is_verified"])
    except IntegrityError as exc:
        raise EmailTakenError(email) from exc
    if email != old_email:
        _send(to=old_email, template="email_changed", context={"user": user, "old_email": old_email}, recipient=user)
    return user


def sender_update(*, user: User, sender_name: str, reply_to_email: str) -> bool:
    """Set the sender identity of the user's mailings. A new reply-to address
    is used once its link is opened (the account's own address needs none).
    Returns False when the link was throttled."""
    reply_to_email = normalize_email(reply_to_email)
    user.sender_name = sender_name.strip()
    changed = reply_to_email != user.reply_to_email
    if changed:
        user.reply_to_email = reply_to_email
        user.reply_to_verified = reply_to_email == user.email and user.is_verified
    user.save(update_fields=["sender_name", "reply_to_email", "reply_to_verified"])
    if not changed or not reply_to_email or user.reply_to_verified:
        return True
    if not mail_throttle_allows(reply_to_email, purpose="reply-to"):
        return False
    link = settings.SITE_URL + reverse("accounts:verify_reply_to", args=[REPLY_TO.make(user, reply_to_email)])
    _send(
        to=reply_to_email,
        template="reply_to",
        context={
            "user": user,
            "email": reply_to_email,
            "link": link,
            "max_age_days": settings.ACCOUNT_VERIFICATION_MAX_AGE // 86400,
        },
        recipient=user,
    )
    return True


def reply_to_verify(*, user: User, email: str) -> User:
    user.reply_to_verified = True
    user.save(update_fields=["reply_to_verified"])
    return user


def user_locale_set(*, user: User, language: str | None = None, time_zone: str | None = None) -> User:
    """Set the user's language and/or time zone, and Wagtail's profile with them,
    so the admin speaks the same language in the same zone as the customer screens."""
    from wagtail.users.models import UserProfile

    fields = []
    if language and language != user.language:
        user.language = language
        fields.append("language")
    if time_zone and time_zone != user.time_zone:
        user.time_zone = time_zone
        fields.append("time_zone")
    if fields:
        user.save(update_fields=fields)
    profile = UserProfile.get_for_user(user)
    if (profile.preferred_language, profile.current_time_zone) != (user.language, user.time_zone):
        profile.preferred_language = user.language
        profile.current_time_zone = user.time_zone
        profile.save(update_fields=["preferred_language", "current_time_zone"])
    return user


def user_profile_update(
    *,
    user: User,
    first_name: str,
    last_name: str,
    company: str,
    phone: str,
    avatar,
    language: str | None = None,
    time_zone: str | None = None,
) -> User:
    """`avatar` is a new upload, False to remove the picture, or None/the current file to keep it."""
    # The stored name, not the instance's: a ModelForm has already changed the instance.
    old_avatar = User.objects.filter(pk=user.pk).values_list("avatar", flat=True).first()
    user.first_name = first_name
    user.last_name = last_name
    user.company = company
    user.phone = phone
    User._meta.get_field("avatar").save_form_data(user, avatar)
    user.save()
    user_locale_set(user=user, language=language, time_zone=time_zone)
    if old_avatar and user.avatar.name != old_avatar:
        storage = user.avatar.storage
        transaction.on_commit(lambda: storage.delete(old_avatar))
    return user


@transaction.atomic
def user_delete(*, user: User) -> None:
    """Delete the account and everything it owns.

    The database cascades from the user to their clients, messages and
    mailings, and from mailings to runs, deliveries and attempts (the send
    history). Mailing.message is PROTECT, and Django raises ProtectedError for
    PROTECT even when the mailing would go in the same delete (only RESTRICT
    allows that), so the mailings go first. Their post_delete signals let the
    sending engine drop their schedules."""
    Mailing.objects.filter(owner=user).delete()
    avatar = user.avatar.name
    storage = user.avatar.storage
    user.delete()
    if avatar:
        transaction.on_commit(lambda: storage.delete(avatar))


@transaction.atomic
def user_set_role(*, user: User, role: str) -> User:
    """Give the user exactly one role: its group replaces any other role group."""
    if role not in ROLE_GROUPS:
        raise ValueError(f"Unknown role {role!r}")
    role_groups = {g.name: g for g in Group.objects.filter(name__in=[n for n in ROLE_GROUPS.values() if n])}
    name = ROLE_GROUPS[role]
    if name is not None and name not in role_groups:
        raise Group.DoesNotExist(f"The group {name!r} is missing: run migrate.")
    user.groups.remove(*[g for n, g in role_groups.items() if n != name])
    if name is not None:
        user.groups.add(role_groups[name])
    return user


# --- API tokens ---------------------------------------------------------------------

# last_used_at is written at most this often per token, not on every request.
API_TOKEN_TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class IssuedApiToken:
    token: ApiToken
    secret: str  # shown to the user once, never stored


@transaction.atomic
def api_token_create(*, user: User, name: str) -> IssuedApiToken:
    prefix, secret = new_api_token_secret()
    token = ApiToken.objects.create(user=user, name=name.strip(), prefix=prefix, key_hash=api_token_hash(secret))
    return IssuedApiToken(token=token, secret=secret)


@transaction.atomic
def api_token_revoke(*, token: ApiToken) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def api_token_touch(*, token: ApiToken) -> None:
    """Record use, at most once per API_TOKEN_TOUCH_EVERY: one conditional UPDATE, no lock."""
    now = timezone.now()
    if token.last_used_at and now - token.last_used_at < API_TOKEN_TOUCH_EVERY:
        return
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    token.last_used_at = now
