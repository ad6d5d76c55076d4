"""Demo users: a superuser and one user per role. Passwords are for the demo only."""

from django.contrib.auth.models import Group

from accounts.models import User

# (email, password, role group or None, is_superuser)
DEMO_USERS = [
    ("admin@mailsite.test", "demo-admin", None, True),
    ("customer@mailsite.test", "demo-customer", None, False),
    ("manager@mailsite.test", "demo-manager", "Managers", False),
    ("editor@mailsite.test", "demo-editor", "Content editors", False),
]


def load(stdout):
    stdout.write("Demo logins:")
    for email, password, group_name, is_superuser in DEMO_USERS:
        user, _ = User.objects.get_or_create(email=email)
        user.is_superuser = is_superuser
        user.is_staff = is_superuser
        user.is_verified = True
        user.is_active = True
        user.first_name = email.split("@")[0].capitalize()
        user.last_name = "Demo"
        user.set_password(password)
        user.save()
        if group_name:
            group = Group.objects.filter(name=group_name).first()
            if group:
                user.groups.add(group)
        role = "superuser" if is_superuser else (group_name or "customer")
        stdout.write(f"  {role:<16} {email:<28} {password}")
