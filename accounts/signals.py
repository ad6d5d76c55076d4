"""Wagtail's own account page (Admin → Account → Preferences) edits UserProfile:
its language and time zone come back to our user, so both stay in step."""

from django.conf import settings
from django.db.models.signals import post_save
from django.dispatch import receiver
from wagtail.users.models import UserProfile

from accounts.locale import is_time_zone


@receiver(post_save, sender=UserProfile, dispatch_uid="accounts-wagtail-profile-saved")
def wagtail_profile_saved(sender, instance, **kwargs):
    from accounts.services import user_locale_set

    user = instance.user
    language = instance.preferred_language if instance.preferred_language in dict(settings.LANGUAGES) else None
    time_zone = instance.current_time_zone if is_time_zone(instance.current_time_zone or "") else None
    if (language or user.language, time_zone or user.time_zone) != (user.language, user.time_zone):
        user_locale_set(user=user, language=language, time_zone=time_zone)
