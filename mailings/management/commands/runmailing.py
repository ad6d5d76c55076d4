"""Run mailings in the foreground, through the same code as the django-q2 worker."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from tqdm import tqdm

from mailings import engine
from mailings.models import ACTIVE_RUN_STATUSES, Delivery, Mailing, Run, RunStatus


class Command(BaseCommand):
    help = (
        "Send mailings now, in this process, with a progress bar and a summary. "
        "IDs: start a run of each mailing at once (as an edit would); --due: every due "
        "mailing and every run with work left; --dry-run: say what would be sent."
    )

    def add_arguments(self, parser):
        parser.add_argument("ids", nargs="*", type=int, metavar="ID", help="mailing ids")
        parser.add_argument("--due", action="store_true", help="run what the dispatcher would run now")
        parser.add_argument("--dry-run", action="store_true", help="send nothing, only report")
        parser.add_argument(
            "--language",
            choices=[code for code, _name in settings.LANGUAGES],
            default=settings.LANGUAGE_CODE,
            help="language of the output",
        )

    def handle(self, *args, language, **options):
        with translation.override(language):
            self.run(**options)

    def run(self, *, ids, due, dry_run, **options):
        if not ids and not due:
            raise CommandError(_("Give mailing IDs or --due."))
        now = timezone.now()
        missing = sorted(set(ids) - set(Mailing.objects.filter(pk__in=ids).values_list("pk", flat=True)))
        if missing:
            raise CommandError(_("No such mailing: %(ids)s") % {"ids": ", ".join(map(str, missing))})
        if dry_run:
            self.dry_run(ids, due, now)
            return
        run_ids, problems = [], []
        for mailing_id in ids:
            run = self.start(mailing_id, now)
            if isinstance(run, str):
                problems.append(_("mailing %(id)s: %(problem)s") % {"id": mailing_id, "problem": run})
            else:
                run_ids.append(run.pk)
        if due:
            for mailing_id in engine.due_mailings(now).values_list("pk", flat=True):
                run = engine.start_due_run(mailing_id, now=now, enqueue=False)
                if run is not None:
                    run_ids.append(run.pk)
            engine.settle_stale_claims(now=now)
            engine.resume_deferred(now=now)
            working = Run.objects.filter(status__in=(RunStatus.PENDING, RunStatus.SENDING))
            run_ids += working.values_list("pk", flat=True)
        fatal = [*problems]
        for run_id in dict.fromkeys(run_ids):
            fatal += self.send(run_id)
        if fatal:
            raise CommandError("\n".join(fatal), returncode=2)

    def start(self, mailing_id, now):
        active = Run.objects.filter(mailing_id=mailing_id, status__in=ACTIVE_RUN_STATUSES).first()
        if active is not None:
            return active
        mailing = Mailing.objects.select_related("owner").get(pk=mailing_id)
        if not engine.is_runnable(mailing):
            return engine.stop_reason_for(mailing)
        if not engine.reschedule(mailing_id, start_now=True, now=now):
            return _("not due: outside its start/end window, or already completed")
        run = engine.start_due_run(mailing_id, now=now, enqueue=False)
        return run if run is not None else _("could not start a run")

    def send(self, run_id):
        run = Run.objects.select_related("mailing__message").get(pk=run_id)
        if run.status == RunStatus.DEFERRED:
            Run.objects.filter(pk=run_id).update(status=RunStatus.SENDING)
        left = Delivery.objects.filter(run_id=run_id).filter(engine.claimable(timezone.now())).count()
        label = _("Run %(run)s (mailing %(mailing)s: %(subject)s)") % {
            "run": run_id,
            "mailing": run.mailing_id,
            "subject": run.mailing.message.subject,
        }
        with tqdm(total=left, desc=label, unit=_("msg"), disable=left == 0, file=self.stderr._out) as bar:
            results = engine.send_run_inline(run_id, progress=bar.update)
        run.refresh_from_db()
        retry = sum(r.retry for r in results)
        summary = ngettext(
            "%(status)s; sent %(sent)s, failed %(failed)s, waiting to retry %(retry)s, "
            "not sent %(skipped)s of %(total)s recipient",
            "%(status)s; sent %(sent)s, failed %(failed)s, waiting to retry %(retry)s, "
            "not sent %(skipped)s of %(total)s recipients",
            run.recipients_count,
        ) % {
            "status": run.get_status_display(),
            "sent": run.sent_count,
            "failed": run.failed_count,
            "retry": retry,
            "skipped": run.skipped_count,
            "total": run.recipients_count,
        }
        self.stdout.write(f"{label}: {summary}")
        if run.status == RunStatus.DEFERRED:
            return [
                _("run %(run)s: deferred, mail server unavailable: %(reason)s")
                % {"run": run_id, "reason": run.deferred_reason}
            ]
        return []

    def dry_run(self, ids, due, now):
        mailings = list(Mailing.objects.filter(pk__in=ids).select_related("message", "owner"))
        if due:
            mailings += list(engine.due_mailings(now).select_related("message", "owner"))
        for mailing in dict.fromkeys(mailings):
            clients = mailing.clients.count()
            line = ngettext(
                "Would send mailing %(id)s (%(subject)s) to %(count)s client",
                "Would send mailing %(id)s (%(subject)s) to %(count)s clients",
                clients,
            ) % {"id": mailing.pk, "subject": mailing.message.subject, "count": clients}
            if not engine.is_runnable(mailing):
                line += " " + _("(will not run: %(reason)s)") % {"reason": engine.stop_reason_for(mailing)}
            self.stdout.write(line)
        for run in Run.objects.filter(status__in=ACTIVE_RUN_STATUSES):
            left = Delivery.objects.filter(run=run).filter(engine.claimable(now)).count()
            self.stdout.write(
                ngettext(
                    "Would continue run %(run)s of mailing %(mailing)s: %(left)s recipient left",
                    "Would continue run %(run)s of mailing %(mailing)s: %(left)s recipients left",
                    left,
                )
                % {"run": run.pk, "mailing": run.mailing_id, "left": left}
            )
        self.stdout.write(_("Dry run: nothing was sent."))
