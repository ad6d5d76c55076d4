# The account-email task moved from mailsite.emails to core.emails: retries
# already scheduled under the old name keep running under the new one.
from django.db import migrations

OLD = "mailsite.emails.deliver_email"
NEW = "core.emails.deliver_email"


def forward(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(func=OLD).update(func=NEW)


def backward(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(func=NEW).update(func=OLD)


class Migration(migrations.Migration):
    dependencies = [("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more")]

    operations = [migrations.RunPython(forward, backward)]
