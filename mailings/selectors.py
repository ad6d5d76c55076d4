"""Reads: the one place that decides what a user may see.

Every list, detail, export and count of clients, messages, mailings and
attempts, on the customer screens and in the Wagtail admin alike, starts from
these functions. They ask django-guardian; a user with the model-level view
permission (managers) and superusers see every row.
"""

from guardian.shortcuts import get_objects_for_user

from mailings.models import Attempt, Client, Mailing, Message, Run


def _visible(user, model, queryset=None, perm="view"):
    if user is None or not user.is_authenticated:
        return model.objects.none()
    codename = f"{model._meta.app_label}.{perm}_{model._meta.model_name}"
    return get_objects_for_user(
        user,
        codename,
        klass=queryset if queryset is not None else model.objects.all(),
        accept_global_perms=True,
    )


def clients_for_user(user, *, perm="view"):
    return _visible(user, Client, perm=perm)


def messages_for_user(user, *, perm="view"):
    return _visible(user, Message, perm=perm)


def mailings_for_user(user, *, perm="view"):
    return _visible(user, Mailing, Mailing.objects.select_related("message", "owner"), perm=perm)


def runs_for_user(user):
    return Run.objects.filter(mailing__in=mailings_for_user(user).values("pk"))


def attempts_for_user(user):
    return Attempt.objects.filter(mailing__in=mailings_for_user(user).values("pk"))
