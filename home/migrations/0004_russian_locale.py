from django.db import migrations


def add_russian(apps, schema_editor):
    """Wagtail creates the English locale; the site's content is in Russian too."""
    apps.get_model("wagtailcore", "Locale").objects.get_or_create(language_code="ru")


class Migration(migrations.Migration):
    dependencies = [("home", "0003_hero_and_sections"), ("wagtailcore", "0053_locale_model")]
    operations = [migrations.RunPython(add_russian, migrations.RunPython.noop)]
