"""Run mailings in the foreground, through the same code as the django-q2 worker."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
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

    def handle(self, *args, ids, due, dry_run, **options):
        if not ids and not due:
            raise CommandError("Give mailing IDs or --due.")
        now = timezone.now()
        missing = sorted(set(ids) - set(Mailing.objects.filter(pk__in=ids).values_list("pk", flat=True)))
        if missing:
            raise CommandError(f"No such mailing: {', '.join(map(str, missing))}")
        if dry_run:
            self.dry_run(ids, due, now)
            return
        run_ids, problems = [], []
        for mailing_id in ids:
            run = self.start(mailing_id, now)
            if isinstance(run, str):
                problems.append(f"mailing {mailing_id}: {run}")
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
            return "not due: outside its start/end window, or already completed"
        run = engine.start_due_run(mailing_id, now=now, enqueue=False)
        return run if run is not None else "could not start a run"

    def send(self, run_id):
        run = Run.objects.select_related("mailing__message").get(pk=run_id)
        if run.status == RunStatus.DEFERRED:
            Run.objects.filter(pk=run_id).update(status=RunStatus.SENDING)
        left = Delivery.objects.filter(run_id=run_id).filter(engine.claimable(timezone.now())).count()
        label = f"Run {run_id} (mailing {run.mailing_id}: {run.mailing.message.subject})"
        with tqdm(total=left, desc=label, unit="msg", disable=left == 0, file=self.stderr._out) as bar:
            results = engine.send_run_inline(run_id, progress=bar.update)
        run.refresh_from_db()
        retry = sum(r.retry for r in results)
        self.stdout.write(
            f"{label}: {run.get_status_display()}; sent {run.sent_count}, failed {run.failed_count}, "
            f"waiting to retry {retry}, not sent {run.skipped_count} of {run.recipients_count}"
        )
        if run.status == RunStatus.DEFERRED:
            return [f"run {run_id}: deferred, mail server unavailable: {run.deferred_reason}"]
        return []

    def dry_run(self, ids, due, now):
        mailings = list(Mailing.objects.filter(pk__in=ids).select_related("message", "owner"))
        if due:
            mailings += list(engine.due_mailings(now).select_related("message", "owner"))
        for mailing in dict.fromkeys(mailings):
            note = "" if engine.is_runnable(mailing) else f" (will not run: {engine.stop_reason_for(mailing)})"
            self.stdout.write(
                f"Would send mailing {mailing.pk} ({mailing.message.subject}) "
                f"to {mailing.clients.count()} clients{note}"
            )
        for run in Run.objects.filter(status__in=ACTIVE_RUN_STATUSES):
            left = Delivery.objects.filter(run=run).filter(engine.claimable(now)).count()
            self.stdout.write(f"Would continue run {run.pk} of mailing {run.mailing_id}: {left} recipients left")
        self.stdout.write("Dry run: nothing was sent.")
