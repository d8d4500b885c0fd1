"""Django settings, read from the environment through strict helpers (see env.py).

The defaults are the production profile: DEBUG off, SECRET_KEY required, no
private outbound targets. ``make run`` sets DEBUG=1 for local development.
"""

from __future__ import annotations

import warnings
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from glassflow_site.env import env_bool, env_bytes, env_int, env_list, env_seconds, env_secret, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("GLASSFLOW_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)
# Outside DEBUG, placeholders such as deploy/systemd/env.example's and short values stop the start.
SECRET_KEY = env_str("SECRET_KEY") if DEBUG else env_secret("SECRET_KEY", minimum_length=32)
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off (generate one with "
                                   "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`)")
    SECRET_KEY = "insecure-development-key-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    # Swagger UI and Redoc files, served from static/ (no CDN at run time).
    "drf_spectacular_sidecar",
    "django_htmx",
    "accounts",
    "projects",
    "pipelines",
    "sinks",
    "ingest",
    "deadletters",
    "runs",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "glassflow_site.urls"
WSGI_APPLICATION = "glassflow_site.wsgi.application"
ASGI_APPLICATION = "glassflow_site.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

_database_url = env_str("DATABASE_URL")
if _database_url:
    try:
        DATABASES = {"default": dj_database_url.parse(_database_url, conn_max_age=60, conn_health_checks=True)}
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}") from None
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "glassflow.sqlite3",
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "projects:list"
LOGOUT_REDIRECT_URL = "accounts:login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
# WhiteNoise serves static files from the ASGI app (no separate web server needed). With
# DEBUG on it serves them straight from the apps' folders, so collectstatic is only for production.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
# WhiteNoise hands Django a file iterator; under ASGI Django warns on every static file that it
# reads it synchronously (in a thread). That is expected for static files and not worth a log line.
warnings.filterwarnings("ignore", message="StreamingHttpResponse must consume synchronous iterators")

# "default" is per process (dashboard history, fine to lose). Rate-limit counters must be shared
# by every web process and host, or N processes allow N times the rate: they live in a table of
# the main database (SQLite or PostgreSQL alike), created by the accounts migrations.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "ratelimit": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "gf_ratelimit_cache",
                  "OPTIONS": {"MAX_ENTRIES": 100_000, "CULL_FREQUENCY": 4}},
}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

AUTH_RATE_LIMIT = env_str("AUTH_RATE_LIMIT", "20/min")
# Quotas (docs/security.md): projects an account may own, live tails a user may hold open at once.
PROJECTS_PER_ACCOUNT = env_int("PROJECTS_PER_ACCOUNT", 10, minimum=1, maximum=100_000)
LIVE_TAILS_PER_USER = env_int("LIVE_TAILS_PER_USER", 3, minimum=1, maximum=100)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_RATES": {"auth": AUTH_RATE_LIMIT},
    # How many reverse proxies append to X-Forwarded-For; rate limits key on the client address.
    # 0 (not None, which would make DRF trust the client's own X-Forwarded-For) = the TCP peer.
    "NUM_PROXIES": env_int("NUM_PROXIES", 0, minimum=0, maximum=10),
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(seconds=env_seconds("JWT_ACCESS_LIFETIME", 15 * 60)),
    "REFRESH_TOKEN_LIFETIME": timedelta(seconds=env_seconds("JWT_REFRESH_LIFETIME", 7 * 86400)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    # Access tokens carry a digest of the password hash and stop working when it changes;
    # refresh tokens are blacklisted on a password change (accounts/tokens.py).
    "CHECK_REVOKE_TOKEN": True,
    "AUTH_HEADER_TYPES": ("Bearer",),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "GlassFlow AI Runtime API",
    "DESCRIPTION": "Projects, members, API keys, pipelines and sinks of the GlassFlow AI Runtime.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# NATS and JetStream. NATS_URL may list several servers separated by commas.
NATS_URL = env_str("NATS_URL", "nats://127.0.0.1:4222")
NATS_SERVERS = [url.strip() for url in NATS_URL.split(",") if url.strip()]
NATS_CONNECT_TIMEOUT = env_int("NATS_CONNECT_TIMEOUT", 2, minimum=1, maximum=60)
STREAM_MAX_AGE_SECONDS = env_seconds("STREAM_MAX_AGE", 7 * 86400)
STREAM_MAX_BYTES = env_bytes("STREAM_MAX_BYTES", 1024**3)
# Outputs and dead letters may be smaller than raw records; 0 (the default) = STREAM_MAX_BYTES.
# One project reserves raw + output + dlq + RUN_HISTORY_MAX_BYTES (docs/security.md, "Limits").
STREAM_OUTPUT_MAX_BYTES = env_bytes("STREAM_OUTPUT_MAX_BYTES", 0)
STREAM_DLQ_MAX_BYTES = env_bytes("STREAM_DLQ_MAX_BYTES", 0)
STREAM_REPLICAS = env_int("STREAM_REPLICAS", 1, minimum=1, maximum=5)
STREAM_DUPLICATE_WINDOW_SECONDS = env_seconds("STREAM_DUPLICATE_WINDOW", 120)
CONFIG_BUCKET = env_str("CONFIG_BUCKET", "gf-ai-config")
# Run history (stream gf-ai-runs-{id}, docs/pipeline-worker.md): every batch sent to an agent.
RUN_HISTORY_ENABLED = env_bool("RUN_HISTORY", True)
RUN_HISTORY_MAX_AGE_SECONDS = env_seconds("RUN_HISTORY_MAX_AGE", 86400)
# 0: a quarter of STREAM_MAX_BYTES, computed with the stream (so overriding STREAM_MAX_BYTES follows).
RUN_HISTORY_MAX_BYTES = env_bytes("RUN_HISTORY_MAX_BYTES", 0)
RUN_HISTORY_PREVIEW_BYTES = env_int("RUN_HISTORY_PREVIEW_BYTES", 64 * 1024, minimum=2, maximum=4 * 1024**2)
CONFIG_RECONCILE_INTERVAL = env_int("CONFIG_RECONCILE_INTERVAL", 5, minimum=1, maximum=3600)

# Outbound targets (agent endpoints, webhooks, Slack): private and loopback addresses
# are refused unless this is on. It follows DEBUG so local development can use them.
ALLOW_PRIVATE_TARGETS = env_bool("ALLOW_PRIVATE_TARGETS", DEBUG)

# Bearer token for the /internal/v1/ endpoints used by services outside NATS (their answers hold
# every tenant's unmasked secrets). Unset in production disables them; development gets a fixed
# token so the walkthrough works. Outside DEBUG a placeholder or short token stops the start.
INTERNAL_SERVICE_TOKEN = (env_str("INTERNAL_SERVICE_TOKEN", "dev-internal-token") if DEBUG
                          else env_secret("INTERNAL_SERVICE_TOKEN", minimum_length=32))
# Whether the public web app answers /internal/ at all. Off in production: run the internal
# listener instead (`manage.py runinternal`, loopback only). make run (DEBUG) keeps it on.
INTERNAL_API_ON_PUBLIC = env_bool("INTERNAL_API_ON_PUBLIC", DEBUG)
INTERNAL_API_PORT = env_int("INTERNAL_API_PORT", 8001, minimum=1, maximum=65535)

# Pipeline editor playground: each "Run on sample" runs in a child process with these hard limits
# (docs/security.md), at most PLAYGROUND_CONCURRENCY at a time per web process.
PLAYGROUND_CPU_SECONDS = env_int("PLAYGROUND_CPU_SECONDS", 2, minimum=1, maximum=60)
PLAYGROUND_MEMORY_BYTES = env_bytes("PLAYGROUND_MEMORY", 256 * 1024**2)
PLAYGROUND_TIMEOUT_SECONDS = env_int("PLAYGROUND_TIMEOUT", 10, minimum=2, maximum=120)
PLAYGROUND_CONCURRENCY = env_int("PLAYGROUND_CONCURRENCY", 2, minimum=1, maximum=64)

# Sink worker (manage.py runsink), see docs/sinks.md.
SINK_INITIAL_BACKOFF_MS = env_int("SINK_INITIAL_BACKOFF_MS", 1000, minimum=1)
SINK_MAX_BACKOFF_MS = env_int("SINK_MAX_BACKOFF_MS", 60_000, minimum=1)
SINK_REQUEST_TIMEOUT_SECONDS = env_int("SINK_REQUEST_TIMEOUT", 10, minimum=1, maximum=300)
SINK_BATCH_SIZE = env_int("SINK_BATCH_SIZE", 10, minimum=1, maximum=1000)
STATS_BUCKET = env_str("STATS_BUCKET", "gf-ai-stats")

# Receiver limits.
RECEIVER_MAX_BODY_BYTES = env_bytes("RECEIVER_MAX_BODY_BYTES", 8 * 1024**2)
# How long a request waits for JetStream to acknowledge all its records before answering 503.
RECEIVER_PUBLISH_TIMEOUT = env_seconds("RECEIVER_PUBLISH_TIMEOUT", 5)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # httpx logs every request at INFO; the workers log one line per batch instead.
    "loggers": {"nats": {"level": "WARNING"}, "httpx": {"level": "WARNING"}, "httpcore": {"level": "WARNING"}},
}
