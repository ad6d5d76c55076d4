from django.apps import AppConfig


class MailingsConfig(AppConfig):
    name = "mailings"

    def ready(self):
        from django.db.models.signals import post_delete

        from mailings import engine
        from mailings.models import Mailing

        post_delete.connect(engine.mailing_deleted, sender=Mailing, dispatch_uid="mailings.mailing_deleted")
