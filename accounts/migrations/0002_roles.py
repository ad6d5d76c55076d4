"""The roles as data: the groups "Managers" and "Content editors" with exactly
the permissions they need. Idempotent: it sets each group's permissions to the
lists below."""

from django.db import migrations

MANAGER_PERMS = [
    ("wagtailadmin", "admin", "access_admin"),
    ("accounts", "user", "view_user"),
    ("accounts", "user", "block_user"),
    ("mailings", "client", "view_client"),
    ("mailings", "message", "view_message"),
    ("mailings", "mailing", "view_mailing"),
    ("mailings", "mailing", "disable_mailing"),
    ("mailings", "run", "view_run"),
    ("mailings", "attempt", "view_attempt"),
]
EDITOR_PERMS = [("wagtailadmin", "admin", "access_admin")]
EDITOR_PAGE_PERMS = ["add_page", "change_page", "publish_page"]
EDITOR_IMAGE_PERMS = ["add_image", "change_image", "choose_image", "delete_image"]


def create_roles(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # Permissions are normally made after all migrations; make them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    Page = apps.get_model("wagtailcore", "Page")
    Collection = apps.get_model("wagtailcore", "Collection")
    GroupPagePermission = apps.get_model("wagtailcore", "GroupPagePermission")
    GroupCollectionPermission = apps.get_model("wagtailcore", "GroupCollectionPermission")

    def perm(app_label, model, codename):
        return Permission.objects.get(content_type__app_label=app_label, codename=codename)

    managers, _ = Group.objects.get_or_create(name="Managers")
    managers.permissions.set([perm(*p) for p in MANAGER_PERMS])

    editors, _ = Group.objects.get_or_create(name="Content editors")
    editors.permissions.set([perm(*p) for p in EDITOR_PERMS])
    home = Page.objects.filter(depth=2, slug="home").first()
    if home is not None:
        for codename in EDITOR_PAGE_PERMS:
            GroupPagePermission.objects.get_or_create(
                group=editors, page=home, permission=perm("wagtailcore", "page", codename)
            )
    GroupCollectionPermission.objects.filter(group__in=[managers, editors]).exclude(
        group=editors, permission__codename__in=EDITOR_IMAGE_PERMS
    ).delete()
    root_collection = Collection.objects.filter(depth=1).first()
    if root_collection is not None:
        for codename in EDITOR_IMAGE_PERMS:
            GroupCollectionPermission.objects.get_or_create(
                group=editors, collection=root_collection, permission=perm("wagtailimages", "image", codename)
            )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("mailings", "0001_initial"),
        ("home", "0002_create_homepage"),
        ("wagtailcore", "0098_apitoken"),
        ("wagtailimages", "0027_image_description"),
        ("wagtailadmin", "0006_formstate"),
        # After Wagtail's own migrations that hand choose permissions to every admin group.
        ("wagtaildocs", "0014_alter_document_file_size"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
