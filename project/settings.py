"""Django settings, read from the environment (see .env.example for every variable).

With no variable set this runs as a zero-config development setup: DEBUG on, SQLite in
db.sqlite3, Celery over plain folders under .run/celery/, mail printed to the console.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from kombu import Exchange, Queue

from project.env import (
    celery_broker_config,
    celery_task_routes,
    database_config,
    env_bool,
    env_int,
    env_list,
    env_str,
    load_env_file,
)

BASE_DIR = Path(__file__).resolve().parent.parent

# Local settings from .env (or the file DJANGO_ENV_FILE names), for every process: manage.py,
# Celery, gunicorn. Variables already set in the environment win, as in scripts/run.sh.
if os.environ.get("DJANGO_ENV_FILE"):
    if not load_env_file(Path(os.environ["DJANGO_ENV_FILE"])):
        raise ImproperlyConfigured(f"DJANGO_ENV_FILE: no file {os.environ['DJANGO_ENV_FILE']!r}")
else:
    load_env_file(BASE_DIR / ".env")

DEBUG = env_bool("DJANGO_DEBUG", True)

SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY (or DJANGO_SECRET_KEY_FILE) must be set when DJANGO_DEBUG is false."
        )
    SECRET_KEY = "django-insecure-development-only-key-never-use-in-production"

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    # Before staticfiles, so runserver serves static files through WhiteNoise as production does.
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "simple_history",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "rules",
    "cases",
    "notifications",
]

MIDDLEWARE = [
    # /healthz and /healthz/alerts answer whatever the Host header (probes use 127.0.0.1, not
    # the public name in ALLOWED_HOSTS); first, so no host check or redirect comes before.
    "project.middleware.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Before anything reads a body: a chunked body without a length is refused, not read as empty.
    "project.middleware.RequireContentLength",
    "project.middleware.ContentSecurityPolicy",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): signed in with a second factor (django-otp).
    "django_otp.middleware.OTPMiddleware",
    # Publishers of rules and superusers reach the admin only after their second factor.
    "project.middleware.RequireTwoFactorForAdmin",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Records request.user as the author of every historical record saved during a request.
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: locks out repeated failed sign-ins.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "project.urls"
WSGI_APPLICATION = "project.wsgi.application"
ASGI_APPLICATION = "project.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # project/templates: the admin's base_site.html with the legal staff's review banner.
        "DIRS": [BASE_DIR / "project" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Database: DATABASE_URL, e.g. postgres://user:password@host:5432/name; SQLite file by default.
DATABASES = {
    "default": database_config(
        env_str("DATABASE_URL"),
        default_sqlite_path=BASE_DIR / "db.sqlite3",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
    )
}
# The password apart from the URL (or from a secret file, DATABASE_PASSWORD_FILE), so that a
# URL can be written down without it (docker-compose.yml).
if env_str("DATABASE_PASSWORD"):
    DATABASES["default"]["PASSWORD"] = env_str("DATABASE_PASSWORD")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Login throttling (django-axes, counted in the database): after LOGIN_FAILURE_LIMIT failed
# sign-ins for one user name from one address, that pair is locked out for
# LOGIN_LOCKOUT_MINUTES, whether or not the account exists (no user enumeration).
AUTHENTICATION_BACKENDS = [
    "project.auth.ThrottledLoginBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Axes would log each attempt with the user name typed and the address: personal data.
AXES_VERBOSE = False
AXES_CLIENT_STR_CALLABLE = "project.auth.client_description"

# Two-factor authentication (django-otp, TOTP): the issuer name shown in authenticator apps.
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "Délais asile")

# Sign-in: the caseworkers' app (cases/urls.py) serves the login page and the dashboard.
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"
# Opt in now to Django 6's https default for URL form fields (the admin's source links): no
# per-form warning. Django 5.2 warns once at start-up that this transitional setting will go.
FORMS_URLFIELD_ASSUME_HTTPS = True

# Internationalisation: French first, English second.
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("French")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
# Dates with the month in words in both languages ("8 Apr 2026", « 8 avr. 2026 »): see
# project/formats/<language>/formats.py.
FORMAT_MODULE_PATH = ["project.formats"]
TIME_ZONE = "Europe/Paris"
USE_TZ = True

# Static files, served by WhiteNoise in every mode (no separate web server needed).
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # Hashed, compressed files need `collectstatic` first: production only, so that tests
        # and development work straight from the app folders.
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Decided here rather than left to WhiteNoise, which reads DEBUG late (tests force it off).
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

# Request bodies: the API rejects bodies over 1 MB with its own 400 response; this slightly
# larger cap is Django's backstop, so that the API's check is the one a client normally meets.
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024 + 64 * 1024

# Security: strict unless DEBUG. Behind a TLS-terminating proxy set DJANGO_SECURE_PROXY_SSL_HEADER.
if env_bool("DJANGO_SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
# Load balancers probe over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^healthz/alerts$"]
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
# The preload flag alone submits nothing; it lets the operator submit the domain (and makes
# `check --deploy` clean). Turn it off for a domain whose subdomains cannot all do HTTPS.
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", not DEBUG)
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content Security Policy: scripts and styles from this site only, never inline scripts; style
# attributes are allowed (the admin and Swagger UI set them). Nothing may frame the pages.
CONTENT_SECURITY_POLICY: dict[str, list[str]] = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'", "'unsafe-inline'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}

# Email. EMAIL_HOST set: SMTP; otherwise mail is printed to the console in DEBUG.
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
# A stuck SMTP server must not hold a Celery worker forever.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG and not env_str("EMAIL_HOST")
    else "django.core.mail.backends.smtp.EmailBackend",
)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "delais-asile@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Celery: Redis when REDIS_URL is set, otherwise folders under .run/celery/ (development only).
REDIS_URL = env_str("REDIS_URL")
_broker = celery_broker_config(REDIS_URL, run_dir=BASE_DIR / ".run" / "celery")
CELERY_BROKER_URL = _broker["broker_url"]
CELERY_BROKER_TRANSPORT = _broker["broker_transport"]
CELERY_BROKER_TRANSPORT_OPTIONS = _broker["broker_transport_options"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
# No result backend: the database is the source of truth for what a task did.
CELERY_TASK_IGNORE_RESULT = True
# The queue tasks go to and the worker reads (tests give each run its own).
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_TASK_DEFAULT_QUEUE", "celery")
# Queues per task kind (CELERY_QUEUE_SENDING, _PLANNING, _REEVALUATION); unset: the default one.
CELERY_TASK_ROUTES = celery_task_routes()
if CELERY_TASK_ROUTES:
    # A worker started without -Q (make run's, docker compose's) then reads every one of those
    # queues, so that naming a queue never leaves its tasks unread; `-Q <name>` gives a worker
    # one kind. Each queue its own direct exchange and routing key, as Celery makes them.
    CELERY_TASK_QUEUES = [
        Queue(name, Exchange(name), routing_key=name)
        for name in dict.fromkeys(
            [CELERY_TASK_DEFAULT_QUEUE, *(route["queue"] for route in CELERY_TASK_ROUTES.values())]
        )
    ]
# Celery closes the database connection around every task unless told to reuse it: a new
# PostgreSQL connection per task doubled the cost of sending an alert. project/celery.py checks
# the connection before each task instead, as Django does per request (CONN_MAX_AGE, health
# checks), and Celery still drops it every CELERY_DB_REUSE_MAX tasks.
CELERY_DB_REUSE_MAX = env_int("CELERY_DB_REUSE_MAX", 1000)
# What a task prints (the console email and SMS backends in development) is logged at INFO, not
# Celery's default WARNING.
CELERY_WORKER_REDIRECT_STDOUTS_LEVEL = "INFO"
# Worker processes (`make run` passes the same value; docker compose relies on this).
CELERY_WORKER_CONCURRENCY = env_int("CELERY_CONCURRENCY", 2)

# Rule workbench (README "The rule pack"): publishing a draft needs a second person, unless a
# small organisation lets the draft's last editor publish it too (the history then says so).
RULES_ALLOW_SELF_PUBLISH = env_bool("RULES_ALLOW_SELF_PUBLISH", False)

# Deadline alerts (notifications/README.md). Lead times and recipients are rule data, not here.
# Absolute address of the site, for the links in alert emails.
ALERT_BASE_URL = env_str("ALERT_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
# Hour (Europe/Paris) reminders go out on their day; SMS only within the SMS hours.
ALERT_SEND_HOUR = env_int("ALERT_SEND_HOUR", 8)
ALERT_SMS_START_HOUR = env_int("ALERT_SMS_START_HOUR", 8)
ALERT_SMS_END_HOUR = env_int("ALERT_SMS_END_HOUR", 20)
# Languages tried, in order, when no reviewed template exists in the reader's language.
ALERT_FALLBACK_LANGUAGES = env_list("ALERT_FALLBACK_LANGUAGES", ["fr", "en"])
# Attempts per alert, and the backoff between them (doubling from BASE, capped at MAX).
ALERT_MAX_ATTEMPTS = env_int("ALERT_MAX_ATTEMPTS", 6)
ALERT_RETRY_BASE_SECONDS = env_int("ALERT_RETRY_BASE_SECONDS", 60)
ALERT_RETRY_MAX_SECONDS = env_int("ALERT_RETRY_MAX_SECONDS", 3600)
# A row claimed longer ago than this is taken back (its worker died); longer than any send.
ALERT_SENDING_LEASE_SECONDS = env_int("ALERT_SENDING_LEASE_SECONDS", 300)
# A due row queued this long ago and still planned is queued again (the message was lost).
ALERT_REQUEUE_SECONDS = env_int("ALERT_REQUEUE_SECONDS", 600)
# Beat runs the planner this often; the health check fails when it has not run for MAX_AGE,
# or when the oldest due alert has waited longer than MAX_LATENESS.
ALERT_PLANNER_INTERVAL_MINUTES = env_int("ALERT_PLANNER_INTERVAL_MINUTES", 5)
ALERT_PLANNER_MAX_AGE_MINUTES = env_int("ALERT_PLANNER_MAX_AGE_MINUTES", 15)
# The frequent run plans only the cases changed since the previous one started, minus this
# margin; every case is re-planned by the daily sweep, at ALERT_SWEEP_HOUR (local time).
ALERT_PLANNER_OVERLAP_MINUTES = env_int("ALERT_PLANNER_OVERLAP_MINUTES", 10)
ALERT_SWEEP_HOUR = env_int("ALERT_SWEEP_HOUR", 3)
ALERT_MAX_LATENESS_MINUTES = env_int("ALERT_MAX_LATENESS_MINUTES", 15)

# Re-evaluation after publishing, and a draft's impact (cases/reevaluation.py, cases/impact.py):
# cases per chunk; a chunk (or impact run) held longer than the lease by a worker that died is
# taken over; a chunk queued this long ago and never claimed is queued again (lost message).
REEVALUATION_CHUNK_SIZE = env_int("REEVALUATION_CHUNK_SIZE", 200)
REEVALUATION_LEASE_SECONDS = env_int("REEVALUATION_LEASE_SECONDS", 600)
REEVALUATION_REQUEUE_SECONDS = env_int("REEVALUATION_REQUEUE_SECONDS", 600)
REEVALUATION_SWEEP_MINUTES = env_int("REEVALUATION_SWEEP_MINUTES", 2)

# SMS: console (prints), locmem (tests), sinch (HTTP), or a dotted path. Unset without DEBUG:
# SMS alerts fail visibly in the admin instead of vanishing into a console.
SMS_BACKEND = env_str("SMS_BACKEND", "console" if DEBUG else "")
# Sinch: https://eu.sms.api.sinch.com/xms/v1/<service_plan_id>, its API token, the sender.
SMS_API_URL = env_str("SMS_API_URL").rstrip("/")
SMS_API_TOKEN = env_str("SMS_API_TOKEN")
SMS_SENDER = env_str("SMS_SENDER")
SMS_TIMEOUT = env_int("SMS_TIMEOUT", 10)

# Cache: shared by every process through Redis when REDIS_URL (or CACHE_URL) is set, so that API
# rate limits hold across gunicorn workers; memory of one process otherwise (development).
CACHE_URL = env_str("CACHE_URL", REDIS_URL)
CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": "delais-asile",
        }
        if CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# Personal data: closed cases are anonymised this many days after they were closed (0: never),
# by a daily task (cases/privacy.py; `manage.py anonymise_closed_cases --dry-run` lists them).
CASE_RETENTION_DAYS = env_int("CASE_RETENTION_DAYS", 365 * 5)
if CASE_RETENTION_DAYS < 0:
    raise ImproperlyConfigured("CASE_RETENTION_DAYS must be 0 (never) or a number of days")

# REST API
# How long a process may reuse the published pack version it read (the stateless API only; writes
# to cases always read it afresh), and an API token it looked up. 0: read every time.
PUBLISHED_CACHE_SECONDS = float(env_str("PUBLISHED_CACHE_SECONDS", "1"))
API_TOKEN_CACHE_SECONDS = float(env_str("API_TOKEN_CACHE_SECONDS", "10"))
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Remembers a token for API_TOKEN_CACHE_SECONDS (rules/authentication.py).
        "rules.authentication.CachedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "rules.api.api_exception_handler",
    # Only JSON bodies: the schema lists what the API accepts.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    # Rate limits per API token (per account for a browser session, per address when anonymous),
    # counted in the shared cache above; over the limit: 429 with a JSON error.
    "DEFAULT_THROTTLE_CLASSES": ["project.throttling.TokenRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"token": env_str("API_RATE_LIMIT", "120/minute")},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Asylum time limits API",
    "DESCRIPTION": "Time limits of the French asylum procedure, computed from versioned rules.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI and ReDoc come from the drf-spectacular-sidecar package: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Logging: levels and a format only. Messages must never carry personal data (names, dates of
# birth, case contents); log ids instead.
LOG_LEVEL = env_str("DJANGO_LOG_LEVEL", "INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django's own console handler would print every line a second time beside root's.
        "django": {"handlers": [], "level": LOG_LEVEL, "propagate": True},
        # SQL statements carry query parameters, hence personal data: never below INFO.
        "django.db.backends": {"level": "INFO"},
    },
}
