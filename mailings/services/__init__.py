"""Writes to the mailing domain, one module per object: clients, messages, mailings
(and the owner permissions they all grant). Views, forms, the admin, the API and tasks
call these as `services.<name>`."""

from mailings.services.clients import (
    IMPORT_BATCH_SIZE,
    DuplicateClientError,
    client_create,
    client_delete,
    client_update,
    clients_import,
    clients_upsert,
)
from mailings.services.mailings import (
    mailing_cancel,
    mailing_control,
    mailing_create,
    mailing_delete,
    mailing_disable,
    mailing_enable,
    mailing_pause,
    mailing_resume,
    mailing_start_now,
    mailing_update,
    owner_mailings_replan,
    run_retry_failed,
)
from mailings.services.messages import (
    TEST_SEND_KEY_PREFIX,
    MessageInUseError,
    message_create,
    message_delete,
    message_send_test,
    message_update,
)
from mailings.services.permissions import (
    OWNER_PERMS,
    grant_owner_perms,
)

__all__ = [
    "IMPORT_BATCH_SIZE",
    "OWNER_PERMS",
    "TEST_SEND_KEY_PREFIX",
    "DuplicateClientError",
    "MessageInUseError",
    "client_create",
    "client_delete",
    "client_update",
    "clients_import",
    "clients_upsert",
    "grant_owner_perms",
    "mailing_cancel",
    "mailing_control",
    "mailing_create",
    "mailing_delete",
    "mailing_disable",
    "mailing_enable",
    "mailing_pause",
    "mailing_resume",
    "mailing_start_now",
    "mailing_update",
    "message_create",
    "message_delete",
    "message_send_test",
    "message_update",
    "owner_mailings_replan",
    "run_retry_failed",
]
