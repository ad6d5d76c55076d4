"""Mailsite settings, read from the environment with django-environ.

Defaults are the embedded set-up that `make run` uses: SQLite under var/, the
database cache table, the django-q2 ORM broker and the local mail sink. In
production every outside service is configured by an environment variable
(see the table in README.md).
"""

from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"
VAR_DIR.mkdir(exist_ok=True)

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# Off unless development turns it on (`make run`, Procfile.dev and the tests do).
DEBUG = env.bool("DJANGO_DEBUG", default=False)
DEV_SECRET_KEY = "dev-only-insecure-key-change-me-0123456789-abcdefghijklmnopqrstuvwxyz"
SECRET_KEY_MIN_LENGTH = 50
SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
if not DEBUG and (len(SECRET_KEY) < SECRET_KEY_MIN_LENGTH or SECRET_KEY == DEV_SECRET_KEY):
    # The key signs sessions and verification links: a known or guessable one lets anyone log in as anyone.
    raise ImproperlyConfigured(
        f"DJANGO_SECRET_KEY must be set to a random value of at least {SECRET_KEY_MIN_LENGTH} characters "
        "(not the development key) when DJANGO_DEBUG is off."
    )
SECRET_KEY = SECRET_KEY or DEV_SECRET_KEY


def optional_int(name):
    """An integer setting where empty (or unset) means "none": None."""
    value = env.str(name, default="").strip()
    return int(value) if value else None


ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "core",
    "accounts",
    "home",
    "blog",
    "mailings",
    "api",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "wagtail.contrib.forms",
    "wagtail.contrib.simple_translation",
    "wagtail.locales",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.contrib.sitemaps",
    "wagtail.contrib.routable_page",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "wagtail_modeladmin",
    "modelcluster",
    "taggit",
    "guardian",
    "axes",
    "django_bootstrap5",
    "django_q",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.sitemaps",
    "django.contrib.staticfiles",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "core.csp.MailsiteCSPMiddleware",
    "core.middleware.RejectNulMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "core.middleware.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.BlockedUserMiddleware",
    # After authentication: a logged-in user's own language and time zone.
    "accounts.middleware.UserLocaleMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
    # Anonymous visitors' public pages, stored whole with per-request holes (README "Caching").
    # Inside everything that sets the language, user, CSRF cookie and security headers.
    "core.page_cache.PageCacheMiddleware",
    # AxesMiddleware must be last.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "mailsite.urls"
WSGI_APPLICATION = "mailsite.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while the worker writes; the timeout makes
    # a writer wait for the lock instead of failing at once.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and task broker ----------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")
_xdist_worker = env("PYTEST_XDIST_WORKER", default="")
if REDIS_URL and _xdist_worker:
    # Tests in parallel (pytest-xdist, .ci/run): each process its own Redis database,
    # as pytest-django gives each its own test database, since tests clear the cache.
    _parts = urlsplit(REDIS_URL)
    _db = int(_parts.path.strip("/") or 0) + int(_xdist_worker.removeprefix("gw"))
    REDIS_URL = urlunsplit(_parts._replace(path=f"/{_db}"))
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                # A Redis outage slows pages down, it never breaks them.
                "IGNORE_EXCEPTIONS": True,
                "SOCKET_CONNECT_TIMEOUT": 0.5,
                "SOCKET_TIMEOUT": 0.5,
            },
            "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="mailsite"),
        }
    }
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
else:
    # The database cache is shared by every process, so a change made by the
    # worker is seen by the web server.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "mailsite_cache",
        }
    }

Q_CLUSTER = {
    "name": env("Q_CLUSTER_NAME", default="mailsite"),
    "workers": env.int("Q_WORKERS", default=2),
    "timeout": env.int("Q_TIMEOUT", default=600),
    # retry must exceed timeout, or django-q2 re-delivers a task still running.
    "retry": env.int("Q_RETRY", default=660),
    "max_attempts": 3,
    # Tasks a cluster takes off the broker ahead of its workers: no more than it
    # can start, so the chunks it cannot send yet stay on the broker for other clusters.
    "queue_limit": env.int("Q_QUEUE_LIMIT", default=env.int("Q_WORKERS", default=2)),
    "bulk": 10,
    "catch_up": False,
    "save_limit": 1000,
    "label": "Task queue",
}


def _with_query(url: str, **params) -> str:
    """`url` with `params` added to its query string (values already there win)."""
    parts = urlsplit(url)
    query = {**params, **dict(parse_qsl(parts.query))}
    return urlunsplit(parts._replace(query=urlencode(query)))


if REDIS_URL:
    # Its own connection, not the cache's: the pusher blocks on BLPOP for 1 s, so
    # the socket timeout must be longer than that, while the cache keeps 0.5 s.
    Q_CLUSTER["redis"] = _with_query(
        REDIS_URL,
        socket_timeout=env.float("Q_REDIS_SOCKET_TIMEOUT", default=5),
        socket_connect_timeout=env.float("Q_REDIS_CONNECT_TIMEOUT", default=2),
        health_check_interval=30,
    )
else:
    Q_CLUSTER["orm"] = "default"
    Q_CLUSTER["poll"] = env.float("Q_POLL", default=0.5)

# --- Auth -------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.EmailBackend",
    "guardian.backends.ObjectPermissionBackend",
]
# Guardian's anonymous user is turned off on purpose: the public never owns
# objects, and our user model has no username to give it.
ANONYMOUS_USER_NAME = None
GUARDIAN_RENDER_403 = False
GUARDIAN_RAISE_403 = False

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "mailings:dashboard"
LOGOUT_REDIRECT_URL = "/"

ACCOUNT_VERIFICATION_MAX_AGE = env.int("ACCOUNT_VERIFICATION_MAX_AGE", default=3 * 24 * 3600)
ACCOUNT_RESEND_THROTTLE_SECONDS = env.int("ACCOUNT_RESEND_THROTTLE_SECONDS", default=60)
AVATAR_MAX_BYTES = env.int("AVATAR_MAX_BYTES", default=2 * 1024 * 1024)

# django-axes: lock the email+IP pair after repeated failures.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.25)  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"
# One lock per address whatever its case or spaces (see accounts.backends.axes_username).
AXES_USERNAME_CALLABLE = "accounts.backends.axes_username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_VERBOSE = False

# --- Email --------------------------------------------------------------------
MAIL_SINK_HOST = env("MAIL_SINK_HOST", default="127.0.0.1")
MAIL_SINK_PORT = env.int("MAIL_SINK_PORT", default=8025)
MAIL_SINK_DIR = Path(env("MAIL_SINK_DIR", default=str(VAR_DIR / "mail")))
EMAIL_URL = env("EMAIL_URL", default="")
if EMAIL_URL:
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
    EMAIL_HOST = env("EMAIL_HOST", default=MAIL_SINK_HOST)
    EMAIL_PORT = env.int("EMAIL_PORT", default=MAIL_SINK_PORT)
    EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
    EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
    EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
    EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
EMAIL_TIMEOUT = env.float("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Mailsite <noreply@mailsite.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The address `make run` listens on (Procfile.dev); links in emails point there unless SITE_URL says otherwise.
HOST = env("HOST", default="127.0.0.1")
PORT = env.int("PORT", default=8000)
_LINK_HOST = {"0.0.0.0": "127.0.0.1", "::": "[::1]"}.get(HOST, f"[{HOST}]" if ":" in HOST else HOST)  # noqa: S104
SITE_URL = env("SITE_URL", default=f"http://{_LINK_HOST}:{PORT}").rstrip("/")

# --- Internationalisation -----------------------------------------------------
# Exactly these two: any other language would half-translate a page.
LANGUAGES = [("ru", "Русский"), ("en", "English")]
LANGUAGE_CODE = "en"
LANGUAGE_COOKIE_NAME = "mailsite_language"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = env("TIME_ZONE", default="Europe/London")
USE_I18N = True
USE_TZ = True
LOCALE_PATHS = [BASE_DIR / "locale"]
# One date-time format per language, with the zone's abbreviation (core/formats/).
FORMAT_MODULE_PATH = ["core.formats"]

# --- Static and media -----------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(VAR_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# --- Wagtail ------------------------------------------------------------------
WAGTAIL_SITE_NAME = "Mailsite"
WAGTAIL_I18N_ENABLED = True
WAGTAIL_CONTENT_LANGUAGES = LANGUAGES
WAGTAILADMIN_PERMITTED_LANGUAGES = LANGUAGES
WAGTAILADMIN_BASE_URL = SITE_URL
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
# No calls to outside services: no Gravatar (it would send a hash of every email abroad).
WAGTAIL_GRAVATAR_PROVIDER_URL = None
# Nor Wagtail's check for new releases (the admin's browser would call releases.wagtail.org).
WAGTAIL_ENABLE_UPDATE_CHECK = False
# Wagtail's own password reset and email change skip our rules (blocked users,
# throttle, verification): they are off, and the admin links to ours instead.
WAGTAIL_PASSWORD_RESET_ENABLED = False
WAGTAIL_EMAIL_MANAGEMENT_ENABLED = False
WAGTAIL_PASSWORD_MANAGEMENT_ENABLED = False
WAGTAILDOCS_EXTENSIONS = ["csv", "docx", "key", "odt", "pdf", "pptx", "rtf", "txt", "xlsx", "zip"]

# --- Production posture ---------------------------------------------------------
# Only behind a proxy that sets X-Forwarded-Proto itself: otherwise a client could claim https.
if env.bool("DJANGO_TRUST_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True

# --- Content-Security-Policy (django-csp), in its own file -------------------------
from mailsite.csp_settings import CONTENT_SECURITY_POLICY, CSP_ADMIN_DIRECTIVES, CSP_ADMIN_PREFIXES  # noqa: E402, F401

# Wagtail's page preview shows the page in a same-origin iframe, so frames from
# our own origin are allowed; that is why the W019 deploy check is silenced.
X_FRAME_OPTIONS = "SAMEORIGIN"
SILENCED_SYSTEM_CHECKS = ["security.W019"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Wagtail logs every page save and background task at INFO: noise in load_demo and the worker.
        "wagtail": {"level": env("WAGTAIL_LOG_LEVEL", default="WARNING")},
        "django_tasks": {"level": env("WAGTAIL_LOG_LEVEL", default="WARNING")},
    },
}


# --- REST API (docs/api.md): DRF and drf-spectacular, in their own file -------------
from mailsite.api_settings import API_MAX_BODY_BYTES, REST_FRAMEWORK, SPECTACULAR_SETTINGS  # noqa: E402, F401

# --- Sending engine (README "Sending engine") ------------------------------------
# Recipients per claim. Small enough that a cluster joining mid-run, or the
# survivor of a killed one, gets work soon.
MAILINGS_CHUNK_SIZE = env.int("MAILINGS_CHUNK_SIZE", default=100)
# How long a chunk task keeps claiming chunks of its run over the same connections
# before it hands on (engine.turns); 0: one chunk a task.
MAILINGS_TURN_SECONDS = env.float("MAILINGS_TURN_SECONDS", default=2.0)
# Chunk tasks a run starts with while no cluster reports its workers (else one per live worker, plus one).
MAILINGS_FAN_OUT = env.int("MAILINGS_FAN_OUT", default=4)
# Tries per recipient for temporary (4xx) failures, with exponential backoff.
MAILINGS_MAX_TRIES = env.int("MAILINGS_MAX_TRIES", default=5)
MAILINGS_RETRY_BASE_SECONDS = env.float("MAILINGS_RETRY_BASE_SECONDS", default=60)
MAILINGS_RETRY_MAX_SECONDS = env.float("MAILINGS_RETRY_MAX_SECONDS", default=3600)
# A run whose mail server is unreachable waits, backing off, and gives up after a day.
MAILINGS_DEFER_BASE_SECONDS = env.float("MAILINGS_DEFER_BASE_SECONDS", default=60)
MAILINGS_DEFER_MAX_SECONDS = env.float("MAILINGS_DEFER_MAX_SECONDS", default=3600)
MAILINGS_DEFER_GIVE_UP_SECONDS = env.float("MAILINGS_DEFER_GIVE_UP_SECONDS", default=24 * 3600)
# Consecutive failed connections (4xx greeting, silent server) before a run is deferred.
MAILINGS_MAX_CONNECT_FAILURES = env.int("MAILINGS_MAX_CONNECT_FAILURES", default=3)
# A worker's heartbeat thread refreshes its claims this often, even while a
# message waits on a slow server (up to several EMAIL_TIMEOUTs).
MAILINGS_HEARTBEAT_SECONDS = env.float("MAILINGS_HEARTBEAT_SECONDS", default=5)
# A claim not refreshed for this long (three heartbeats) belongs to a dead worker and is taken back.
MAILINGS_CLAIM_STALE_SECONDS = env.float("MAILINGS_CLAIM_STALE_SECONDS", default=3 * MAILINGS_HEARTBEAT_SECONDS)
# Each cluster's main process sweeps this often (one sweep at a time site-wide): stale
# claims back, idle workers fed. Heartbeat + stale + sweep: a dead cluster's work resumes within ~20 s.
MAILINGS_SWEEP_SECONDS = env.float("MAILINGS_SWEEP_SECONDS", default=5)
# A run with work left and no heartbeat for this long gets its chunks enqueued again.
MAILINGS_RUN_IDLE_SECONDS = env.float("MAILINGS_RUN_IDLE_SECONDS", default=60)
# How often a chunk checks for a disabled mailing or a blocked owner, and writes its progress.
MAILINGS_CHECK_SECONDS = env.float("MAILINGS_CHECK_SECONDS", default=1.0)
MAILINGS_FLUSH_EVERY = env.int("MAILINGS_FLUSH_EVERY", default=100)
# Messages in a row that fail with an error (a bug, not a server's reply) before the run is stopped.
MAILINGS_MAX_ERRORS_IN_A_ROW = env.int("MAILINGS_MAX_ERRORS_IN_A_ROW", default=5)
# PostgreSQL: true commits the sending journal without waiting for the WAL flush
# (faster; a database crash may lose the last ~0.6 s of attempts). Off: full durability (README).
MAILINGS_ASYNC_COMMIT = env.bool("MAILINGS_ASYNC_COMMIT", default=False)
# Send MAIL, RCPT and DATA in one write when the mail server offers PIPELINING (RFC 2920).
MAILINGS_SMTP_PIPELINING = env.bool("MAILINGS_SMTP_PIPELINING", default=True)
# SMTP connections a sending turn keeps open and sends over in rounds (with PIPELINING): a round's
# attempts share one commit. After a crash, at most one message per connection is sent twice.
MAILINGS_SMTP_CONNECTIONS = env.int("MAILINGS_SMTP_CONNECTIONS", default=4)
# Names this machine on each attempt ("node:pid"); defaults to the host name.
MAILINGS_NODE_NAME = env("MAILINGS_NODE_NAME", default="")

# --- Sending limits (README "Sending limits") --------------------------------------
# Site-wide, shared by every worker of every cluster; empty = no limit.
MAILINGS_RATE_PER_SECOND = optional_int("MAILINGS_RATE_PER_SECOND")
MAILINGS_RATE_PER_HOUR = optional_int("MAILINGS_RATE_PER_HOUR")
MAILINGS_RATE_PER_DAY = optional_int("MAILINGS_RATE_PER_DAY")
# A chunk that meets a limit opening within this many seconds waits for it; a
# longer wait gives its recipients back and the run continues at that time.
MAILINGS_RATE_MAX_SLEEP_SECONDS = env.float("MAILINGS_RATE_MAX_SLEEP_SECONDS", default=5.0)
# A new customer's daily quota (messages per day); empty = unlimited. Managers change it per customer.
MAILINGS_DAILY_QUOTA = optional_int("MAILINGS_DAILY_QUOTA")
# --- Deliverable mail (README "Mailings as email") ------------------------------
# DKIM signing of mailing emails; all three (or the key file) set, or none.
DKIM_DOMAIN = env("DKIM_DOMAIN", default="")
DKIM_SELECTOR = env("DKIM_SELECTOR", default="")
DKIM_PRIVATE_KEY = env("DKIM_PRIVATE_KEY", default="")
DKIM_PRIVATE_KEY_FILE = env("DKIM_PRIVATE_KEY_FILE", default="")
# Seconds between two test messages a customer sends to themself.
MAILINGS_TEST_SEND_THROTTLE_SECONDS = env.int("MAILINGS_TEST_SEND_THROTTLE_SECONDS", default=10)
