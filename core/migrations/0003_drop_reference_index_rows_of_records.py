"""Wagtail's reference index no longer tracks our records (core.models.NotContent):
the rows it already holds for them would never be updated or removed again, so
they go now. Content (pages, images, documents) keeps its rows. Data only; the
same as running Wagtail's `rebuild_references_index`, without re-reading every page."""

from django.db import migrations

RECORDS = {
    "mailings": [
        "client",
        "message",
        "mailing",
        "run",
        "delivery",
        "attempt",
        "ratecounter",
        "clientuserobjectpermission",
        "clientgroupobjectpermission",
        "messageuserobjectpermission",
        "messagegroupobjectpermission",
        "mailinguserobjectpermission",
        "mailinggroupobjectpermission",
    ],
    "accounts": ["apitoken"],
    "core": ["outgoingemail"],
}


def drop_rows(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ReferenceIndex = apps.get_model("wagtailcore", "ReferenceIndex")
    for app_label, models in RECORDS.items():
        types = ContentType.objects.filter(app_label=app_label, model__in=models)
        ReferenceIndex.objects.filter(base_content_type__in=types).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0002_outgoing_email"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("wagtailcore", "0096_referenceindex_referenceindex_source_object_and_more"),
    ]

    operations = [migrations.RunPython(drop_rows, migrations.RunPython.noop, elidable=True)]
