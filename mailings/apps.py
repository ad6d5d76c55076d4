from django.apps import AppConfig


class MailingsConfig(AppConfig):
    name = "mailings"

    def ready(self):
        from django.contrib.auth import get_user_model
        from django.db.models.signals import post_delete, post_save

        from mailings import scheduling
        from mailings.models import Mailing

        post_delete.connect(scheduling.mailing_deleted, sender=Mailing, dispatch_uid="mailings.mailing_deleted")
        post_save.connect(scheduling.owner_saved, sender=get_user_model(), dispatch_uid="mailings.owner_saved")
