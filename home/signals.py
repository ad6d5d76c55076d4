"""Drop the home page's cached numbers whenever the mailing domain changes."""

from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from home.stats import invalidate_home_stats
from mailings.models import Client, Mailing
from mailings.signals import mailings_changed


@receiver(post_save, sender=Mailing, dispatch_uid="home-stats-mailing-saved")
@receiver(post_delete, sender=Mailing, dispatch_uid="home-stats-mailing-deleted")
@receiver(post_save, sender=Client, dispatch_uid="home-stats-client-saved")
@receiver(post_delete, sender=Client, dispatch_uid="home-stats-client-deleted")
@receiver(m2m_changed, sender=Mailing.clients.through, dispatch_uid="home-stats-mailing-clients")
@receiver(mailings_changed, dispatch_uid="home-stats-mailings-changed")
def _mailings_changed(**kwargs):
    if kwargs.get("action", "post_").startswith("post_"):
        invalidate_home_stats()
