"""EvoSync settings: one module, everything from the environment.

Development works with no environment at all (SQLite in the repository, console email, the
sandbox standing in for Evotor and VK). ``DEBUG=false`` is production: it refuses to start
without ``SECRET_KEY``, ``ALLOWED_HOSTS`` and ``TOKEN_ENCRYPTION_KEYS`` and turns on the secure
cookie/HSTS/SSL baseline so that ``check --deploy --fail-level WARNING`` is clean.
Every variable is listed with its default in ``.env.example`` and the README.
"""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from evosync.env import StrictEnv

BASE_DIR = Path(__file__).resolve().parent.parent

# A developer's .env is read if present; real environment variables win over it.
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env")

env = StrictEnv()

# pytest imports itself before it loads settings; EVOSYNC_TESTING can force either way.
TESTING = env.bool("EVOSYNC_TESTING", default="pytest" in sys.modules)

DEBUG = env.bool("DEBUG", default=True)
PRODUCTION = not DEBUG


def _required_in_production(name: str, dev_default: str) -> str:
    if PRODUCTION and not env.is_set(name):
        raise ImproperlyConfigured(f"{name} must be set when DEBUG is false (production).")
    return env.str(name, default=dev_default)


SECRET_KEY = _required_in_production(
    "SECRET_KEY", "django-insecure-dev-only-key-never-use-in-production-6c1f0e2b9d"
)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
if PRODUCTION and not env.is_set("ALLOWED_HOSTS"):
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DEBUG is false (production).")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS")

# Fernet keys for Evotor/VK tokens at rest, independent of SECRET_KEY; the first one encrypts.
TOKEN_ENCRYPTION_KEYS = env.list("TOKEN_ENCRYPTION_KEYS")
if PRODUCTION and not TOKEN_ENCRYPTION_KEYS:
    raise ImproperlyConfigured(
        "TOKEN_ENCRYPTION_KEYS must be set when DEBUG is false (production): a comma-separated "
        "list of Fernet keys, newest first."
    )

SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
if TESTING:
    # Tests never reach a real server (nor `make run` on this machine): .invalid never resolves
    # (RFC 2606), and the root conftest.py refuses every connection a test has no reason to make.
    SITE_URL = "http://evosync.invalid"

# --- Applications -------------------------------------------------------------------------------

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "axes",
    "django_q",
    "evosync.apps.EvosyncConfig",
    "apps.accounts",
    "apps.connections",
    "apps.catalog",
    "apps.sync",
]

SANDBOX_ENABLED = env.bool("SANDBOX_ENABLED", default=DEBUG)
if SANDBOX_ENABLED:
    INSTALLED_APPS.append("apps.sandbox")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The signed-in user's language and time zone (after auth and LocaleMiddleware).
    "apps.accounts.middleware.UserPreferencesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Axes must come last: it turns a lockout raised by the auth backend into a response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "evosync.urls"
WSGI_APPLICATION = "evosync.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------------


def _database(url: str) -> dict:
    config = environ.Env.db_url_config(url)
    engine = config["ENGINE"]
    if engine == "django.db.backends.sqlite3":
        config["ENGINE"] = "evosync.db.sqlite3"  # lifts Django's 999-variable assumption
        # Web and qcluster share the file: wait for locks instead of failing at once, and take the
        # write lock at BEGIN (IMMEDIATE) so that two writers never deadlock on lock upgrades.
        config["OPTIONS"] = {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    elif engine == "django.db.backends.mysql":
        config["OPTIONS"] = {
            "charset": "utf8mb4",
            "init_command": "SET sql_mode='STRICT_TRANS_TABLES'",
            "isolation_level": "read committed",
        }
        config["TEST"] = {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"}
        config["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60, minimum=0)
        config["CONN_HEALTH_CHECKS"] = True
    return config


DATABASE_URL = env.str("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
DATABASES = {"default": _database(DATABASE_URL)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache --------------------------------------------------------------------------------------
# Redis when configured. Otherwise the database cache, not local memory: the web process and the
# qcluster must see the same django-q statistics (/health) and the same rate-limit counters.

REDIS_URL = env.str("REDIS_URL", default="")
CACHE_URL = env.str("CACHE_URL", default="")
_cache_prefix = "evosync"
if TESTING:
    # Parallel test runs (xdist workers, the SQLite and MariaDB passes) must not share keys.
    _cache_prefix = f"evosync-test-{env.str('PYTEST_XDIST_WORKER', default='main')}"
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": _cache_prefix,
            "TIMEOUT": 300,
        }
    }
elif CACHE_URL:
    CACHES = {"default": {**environ.Env.cache_url_config(CACHE_URL), "KEY_PREFIX": _cache_prefix}}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "evosync_cache",
            "KEY_PREFIX": _cache_prefix,
        }
    }

# --- Auth and security --------------------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
if TESTING:
    # Argon2 is deliberately slow; tests create hundreds of users.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

# django-axes: lock a username+IP pair after repeated failures, for a cooldown.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_HTTP_RESPONSE_CODE = 429
AXES_IPWARE_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0, minimum=0) or None
AXES_VERBOSE = False
# The login forms (ours and the admin's) post the email as "username"; the callable lower-cases
# it so that "Ivan@Mail.ru" and "ivan@mail.ru" share one failure count.
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "apps.accounts.lockout.lockout_username"
# A translated 429 page saying when to try again; every attempt while locked restarts the cooldown.
AXES_LOCKOUT_CALLABLE = "apps.accounts.lockout.lockout_response"
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = True

# Email confirmation links expire; resending them (and password reset emails) is throttled per
# user: one per interval, a few per day.
EMAIL_CONFIRMATION_MAX_AGE = timedelta(days=3)
EMAIL_RESEND_INTERVAL_SECONDS = 60
EMAIL_RESEND_DAILY_LIMIT = 5

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if env.bool("TRUST_X_FORWARDED_PROTO", default=PRODUCTION):
    # Behind a TLS-terminating proxy (the compose deployment): trust its scheme header.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    # The container HEALTHCHECK and load balancers probe /health over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^health$"]
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)

# django-csp: self-hosted assets only, no inline script or style.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}

# --- Internationalisation -----------------------------------------------------------------------

LANGUAGE_CODE = "ru"
LANGUAGES = [("ru", _("Russian")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"

# --- Static files -------------------------------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # Hashed, compressed files need collectstatic (the Docker build runs it).
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION and not TESTING
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = BASE_DIR / "media"
MEDIA_URL = "/media/"

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Email --------------------------------------------------------------------------------------

EMAIL_URL = env.str("EMAIL_URL", default="consolemail://")
# Every setting the URL gives is honoured: host, port, credentials and TLS/SSL from its parts,
# the directory of `filemail:///path` (relative to the project like `sqlite:///`, absolute with
# four slashes), and Django's other EMAIL_* settings as query parameters
# (`smtp+tls://…:587?timeout=10&ssl_certfile=/path`). An unknown parameter is an error.
_EMAIL_DEFAULTS = {
    "EMAIL_HOST": "localhost",
    "EMAIL_PORT": 25,
    "EMAIL_HOST_USER": "",
    "EMAIL_HOST_PASSWORD": "",
    "EMAIL_USE_TLS": False,
    "EMAIL_USE_SSL": False,
    "EMAIL_USE_LOCALTIME": False,
    "EMAIL_SSL_CERTFILE": None,
    "EMAIL_SSL_KEYFILE": None,
    "EMAIL_TIMEOUT": 20,
    "EMAIL_FILE_PATH": "",
}


def _email_settings(url: str) -> dict:
    try:
        parsed = environ.Env.email_url_config(url)
    except ImproperlyConfigured as exc:
        raise ImproperlyConfigured(f"EMAIL_URL: {exc}") from None
    given = {k: v for k, v in parsed.items() if k != "OPTIONS"}
    for key, value in (parsed.get("OPTIONS") or {}).items():
        name = key if key.startswith("EMAIL_") else f"EMAIL_{key}"
        if name not in _EMAIL_DEFAULTS or name in {"EMAIL_HOST", "EMAIL_PORT", "EMAIL_FILE_PATH"}:
            raise ImproperlyConfigured(f"EMAIL_URL: unknown parameter {key.lower()!r}.")
        given[name] = value
    config = {"EMAIL_BACKEND": given.pop("EMAIL_BACKEND"), **_EMAIL_DEFAULTS}
    for name, value in given.items():
        if value is None or value == "":
            continue
        default = _EMAIL_DEFAULTS[name]
        if isinstance(default, bool):
            label = f"EMAIL_URL {name[6:].lower()}"
            value = StrictEnv({label: str(value)}).bool(label, default)
        elif name == "EMAIL_TIMEOUT":
            try:
                value = float(value)
            except ValueError:
                message = f"EMAIL_URL: timeout={value!r} is not a number."
                raise ImproperlyConfigured(message) from None
        config[name] = value
    if config["EMAIL_USE_TLS"] and config["EMAIL_USE_SSL"]:
        raise ImproperlyConfigured("EMAIL_URL: use either TLS or SSL, not both.")
    if config["EMAIL_BACKEND"].endswith("filebased.EmailBackend"):
        if not config["EMAIL_FILE_PATH"]:
            raise ImproperlyConfigured("EMAIL_URL: filemail needs a directory: filemail:///path")
        config["EMAIL_FILE_PATH"] = str(BASE_DIR / config["EMAIL_FILE_PATH"])
    return config


_email = _email_settings(EMAIL_URL)
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email["EMAIL_HOST"]
EMAIL_PORT = _email["EMAIL_PORT"]
EMAIL_HOST_USER = _email["EMAIL_HOST_USER"]
EMAIL_HOST_PASSWORD = _email["EMAIL_HOST_PASSWORD"]
EMAIL_USE_TLS = _email["EMAIL_USE_TLS"]
EMAIL_USE_SSL = _email["EMAIL_USE_SSL"]
EMAIL_USE_LOCALTIME = _email["EMAIL_USE_LOCALTIME"]
EMAIL_SSL_CERTFILE = _email["EMAIL_SSL_CERTFILE"]
EMAIL_SSL_KEYFILE = _email["EMAIL_SSL_KEYFILE"]
EMAIL_TIMEOUT = _email["EMAIL_TIMEOUT"]
EMAIL_FILE_PATH = _email["EMAIL_FILE_PATH"]
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="EvoSync <noreply@evosync.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Background jobs (django-q2, ORM broker) ----------------------------------------------------
# `timeout` bounds one task (a big sync: ~10,000 items at VK's 3 requests/s through execute);
# `retry` must exceed it or a slow task is handed to a second worker while the first still runs
# (system check evosync.E001). Tasks are idempotent: the ORM broker delivers at least once.

Q_TASK_TIMEOUT = env.int("Q_TASK_TIMEOUT", default=900, minimum=10)
Q_CLUSTER = {
    "name": "evosync",
    "orm": "default",
    "workers": env.int("Q_WORKERS", default=2, minimum=1),
    "timeout": Q_TASK_TIMEOUT,
    "retry": Q_TASK_TIMEOUT + 300,
    "max_attempts": 3,
    "ack_failures": True,
    "catch_up": False,
    "poll": 1,
    "recycle": 200,
    "save_limit": 1000,
    "label": _("Background tasks"),
    "cache": "default",
    # Tests run tasks inline; a cluster is started explicitly where a test needs a real one.
    "sync": TESTING,
}

# --- Sync (apps/sync; docs/architecture.md) ------------------------------------------------------
# After this many failed runs in a row a merchant's sync pauses itself until they act.
SYNC_MAX_CONSECUTIVE_FAILURES = env.int("SYNC_MAX_CONSECUTIVE_FAILURES", default=5, minimum=1)
# VK's passing failures (1/6/9/10, 5xx, lost replies) are tried again within a run: this many
# more passes at most, the first after SYNC_RETRY_BACKOFF_MS, doubled for each next.
SYNC_RETRY_PASSES = env.int("SYNC_RETRY_PASSES", default=2, minimum=0)
SYNC_RETRY_BACKOFF = env.int("SYNC_RETRY_BACKOFF_MS", default=2000, minimum=0) / 1000
# A run's lease expires this long after its holder stopped renewing it (a killed worker delays
# the merchant's next run by at most this much).
SYNC_LEASE_SECONDS = env.int("SYNC_LEASE_SECONDS", default=120, minimum=2 if DEBUG else 10)
# Webhook-triggered runs wait for this much quiet so a burst of edits becomes one run.
SYNC_DEBOUNCE_SECONDS = env.int("SYNC_DEBOUNCE_MS", default=2000, minimum=0) / 1000
SYNC_DEBOUNCE_MAX_SECONDS = env.int("SYNC_DEBOUNCE_MAX_SECONDS", default=10, minimum=0)
# prune_logs (daily): finished sync runs and their item errors are kept this long (each
# merchant's last run is kept whatever its age), audit log entries this long.
SYNC_JOB_RETENTION_DAYS = env.int("SYNC_JOB_RETENTION_DAYS", default=90, minimum=1)
AUDIT_RETENTION_DAYS = env.int("AUDIT_RETENTION_DAYS", default=365, minimum=1)

# --- External services (the sandbox stands in for them in development) ---------------------------

EVOTOR_API_URL = env.str("EVOTOR_API_URL", default=f"{SITE_URL}/sandbox/evotor")
VK_API_URL = env.str("VK_API_URL", default=f"{SITE_URL}/sandbox/vk")
VK_ID_URL = env.str("VK_ID_URL", default=f"{SITE_URL}/sandbox/vkid")
if TESTING:
    # Tests mock the providers or point these at the sandbox on a live server themselves.
    EVOTOR_API_URL = "http://evotor.invalid"
    VK_API_URL = "http://vk.invalid"
    VK_ID_URL = "http://vkid.invalid"
HTTP_TIMEOUT_SECONDS = env.int("HTTP_TIMEOUT_SECONDS", default=20, minimum=1)

# VK ID (OAuth 2.1 + PKCE, docs/vk.md#tokens-and-vk-id): our application at
# id.vk.com/business/go. The sandbox accepts any non-empty client id; production has none until
# one is registered, and then the "Connect with VK ID" button is hidden (a pasted user token
# still works).
VK_ID_CLIENT_ID = env.str("VK_ID_CLIENT_ID", default="" if PRODUCTION else "evosync-sandbox")
# Must equal the redirect URI registered for the application, character for character.
VK_ID_REDIRECT_URI = env.str("VK_ID_REDIRECT_URI", default=f"{SITE_URL}/vk/callback")
# market: the Товары methods; groups: the list of administered communities and admin_level.
VK_ID_SCOPES = env.list("VK_ID_SCOPES", default=["market", "groups"])

# Evotor authenticates its account webhooks (user/verify, user/create, user/token, installation
# events) with the "server token" we type into dev.evotor.ru, as Bearer, or with Basic auth.
EVOTOR_WEBHOOK_AUTH = env.str("EVOTOR_WEBHOOK_AUTH", default="bearer").lower()
if EVOTOR_WEBHOOK_AUTH not in {"bearer", "basic"}:
    raise ImproperlyConfigured("EVOTOR_WEBHOOK_AUTH must be 'bearer' or 'basic'.")
EVOTOR_WEBHOOK_TOKEN = env.str(
    "EVOTOR_WEBHOOK_TOKEN", default="" if PRODUCTION else "evosync-dev-evotor-webhook-token"
)
EVOTOR_WEBHOOK_BASIC_USER = env.str("EVOTOR_WEBHOOK_BASIC_USER", default="")
EVOTOR_WEBHOOK_BASIC_PASSWORD = env.str("EVOTOR_WEBHOOK_BASIC_PASSWORD", default="")
# The secret of the product-change webhook (dev.evotor.ru → notifications): HMAC-SHA1 key.
EVOTOR_HOOK_SECRET = env.str(
    "EVOTOR_HOOK_SECRET", default="" if PRODUCTION else "evosync-dev-evotor-hook-secret"
)

# --- Logging ------------------------------------------------------------------------------------

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(process)d %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "django_q": {"level": LOG_LEVEL, "propagate": True},
    },
}
