from django.apps import AppConfig


class MailingsConfig(AppConfig):
    name = "mailings"

    def ready(self):
        from django.db.models.signals import post_delete
        from django_q.signals import post_execute_in_worker, post_spawn, pre_execute

        from mailings import engine
        from mailings.models import Mailing

        post_delete.connect(engine.mailing_deleted, sender=Mailing, dispatch_uid="mailings.mailing_deleted")
        # A graceful stop of the workers (mailings/engine/stopping.py).
        post_spawn.connect(engine.worker_started, dispatch_uid="mailings.worker_started")
        pre_execute.connect(engine.task_starting, dispatch_uid="mailings.task_starting")
        post_execute_in_worker.connect(engine.task_finished, dispatch_uid="mailings.task_finished")
