"""View counts kept in Redis (blog/view_counts.py): the views counted in the
database while Redis was unreachable, and a django-q2 schedule that copies the
totals to the database every minute."""

from django.db import migrations, models

NAME = "Flush article view counts"


def create_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name=NAME,
        defaults={"func": "blog.tasks.flush_view_counts", "schedule_type": "I", "minutes": 1, "repeats": -1},
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("blog", "0002_publish_scheduled_pages_schedule")]
    operations = [
        migrations.AddField(
            model_name="blogpageviews",
            name="unsynced",
            field=models.PositiveBigIntegerField(default=0, verbose_name="views not yet in Redis"),
        ),
        migrations.RunPython(create_schedule, remove_schedule),
    ]
