from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from accounts.services import ROLE_GROUPS, user_set_role
from core.normalize import normalize_email


class Command(BaseCommand):
    help = "Give a user one role: manager, editor, or customer (no role group)."

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("role", choices=sorted(ROLE_GROUPS))

    def handle(self, *args, email, role, **options):
        user = User.objects.filter(email=normalize_email(email)).first()
        if user is None:
            raise CommandError(f"No user with the email {email}.")
        try:
            user_set_role(user=user, role=role)
        except Group.DoesNotExist as exc:
            raise CommandError(str(exc)) from exc
        groups = ", ".join(user.groups.order_by("name").values_list("name", flat=True)) or "none"
        self.stdout.write(self.style.SUCCESS(f"{user.email} is now {role} (groups: {groups})."))
