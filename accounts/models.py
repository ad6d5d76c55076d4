from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.models import GroupPagePermission, GroupPagePermissionManager

from core.models import NotContent
from core.normalize import normalize_email


class UserManager(BaseUserManager):
    """Creates users by email; there is no username."""

    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=normalize_email(email), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        extra_fields.setdefault("is_verified", True)
        if extra_fields["is_staff"] is not True or extra_fields["is_superuser"] is not True:
            raise ValueError("A superuser needs is_staff=True and is_superuser=True.")
        return self._create_user(email, password, **extra_fields)

    def get_by_natural_key(self, username):
        return self.get(**{f"{self.model.USERNAME_FIELD}__iexact": username})


def default_daily_quota():
    """A new customer's daily quota: MAILINGS_DAILY_QUOTA (None = unlimited)."""
    return settings.MAILINGS_DAILY_QUOTA


def validate_time_zone(value: str) -> None:
    from accounts.locale import is_time_zone

    if not is_time_zone(value):
        raise ValidationError(_("“%(value)s” is not a known time zone."), code="time_zone", params={"value": value})


def default_time_zone() -> str:
    return settings.TIME_ZONE


class User(AbstractUser):
    username = None
    email = models.EmailField(_("email address"), unique=True)
    company = models.CharField(_("company"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    avatar = models.ImageField(_("avatar"), upload_to="avatars/", blank=True)
    is_verified = models.BooleanField(
        _("email verified"), default=False, help_text=_("Set when the user opens the verification link.")
    )
    is_blocked = models.BooleanField(_("blocked"), default=False, db_index=True)
    blocked_at = models.DateTimeField(_("blocked at"), null=True, blank=True)
    blocked_reason = models.TextField(_("blocked reason"), blank=True)
    # Messages this customer's mailings may send per day (in their time zone); set by a manager.
    daily_quota = models.PositiveIntegerField(
        _("daily quota"),
        null=True,
        blank=True,
        default=default_daily_quota,
        help_text=_("Messages per day across all of this customer's mailings. Empty: unlimited."),
    )
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )
    time_zone = models.CharField(
        _("time zone"), max_length=64, default=default_time_zone, validators=[validate_time_zone]
    )
    # Sender identity of the customer's mailings: From "sender_name" <the site's
    # address>, Reply-To the customer's own address once its link was opened.
    sender_name = models.CharField(_("sender name"), max_length=100, blank=True)
    reply_to_email = models.EmailField(_("reply-to address"), blank=True)
    reply_to_verified = models.BooleanField(_("reply-to address verified"), default=False)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = []

    objects = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["email"]
        permissions = [("block_user", _("Can block and unblock users"))]

    def __str__(self):
        return self.email

    def clean(self):
        # Before the unique check of every model form (Wagtail's user forms too),
        # so a case variant of a taken address is a field error, not an IntegrityError.
        super().clean()
        self.email = normalize_email(self.email)

    def save(self, *args, **kwargs):
        self.email = normalize_email(self.email)
        super().save(*args, **kwargs)

    @property
    def mail_sender_name(self) -> str:
        return self.sender_name or self.company

    @property
    def mail_reply_to(self) -> str:
        """Replies go to the verified reply-to address, else to the (verified) account address."""
        return self.reply_to_email if self.reply_to_email and self.reply_to_verified else self.email


class RolePagePermissionManager(GroupPagePermissionManager):
    def get_by_natural_key(self, group, page, permission):
        return self.get(group=group, page=page, permission=permission)


class RolePagePermission(GroupPagePermission):
    """Wagtail's page permission rows, with the natural key Wagtail gives only to
    collection permissions, so that the roles fixture (accounts/fixtures/roles.json)
    loads into any database, again and again. Same table, no new column."""

    objects = RolePagePermissionManager()

    class Meta:
        proxy = True
        default_permissions = ()

    def natural_key(self):
        return (self.group, self.page, self.permission)


class ApiToken(NotContent, models.Model):
    """A customer's key to the REST API. Only a hash of the secret is stored;
    the short prefix lets the owner tell their tokens apart."""

    # Wagtail 8 has its own APIToken with related_name "api_tokens".
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="mailsite_api_tokens", verbose_name=_("user"))
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=16)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None
