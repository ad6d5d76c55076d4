"""Demo users: a superuser and one user per role. Passwords are for the demo only."""

from django.contrib.auth.models import Group

from accounts.models import User
from accounts.services import user_set_role

# (email, password, role for `set_role` or None, is_superuser)
DEMO_USERS = [
    ("admin@mailsite.test", "demo-admin", None, True),
    ("customer@mailsite.test", "demo-customer", "customer", False),
    ("manager@mailsite.test", "demo-manager", "manager", False),
    ("editor@mailsite.test", "demo-editor", "editor", False),
]


def load(stdout):
    stdout.write("Demo logins:")
    for email, password, role, is_superuser in DEMO_USERS:
        user, _ = User.objects.get_or_create(email=email)
        user.is_superuser = is_superuser
        user.is_staff = is_superuser
        user.is_verified = True
        user.is_active = True
        user.first_name = email.split("@")[0].capitalize()
        user.last_name = "Demo"
        user.set_password(password)
        user.save()
        if role:
            try:
                user_set_role(user=user, role=role)
            except Group.DoesNotExist:
                stdout.write(f"  (no role groups yet: run migrate; {email} has no role)")
        stdout.write(f"  {'superuser' if is_superuser else role:<16} {email:<28} {password}")
