"""Django settings for Clientele, configured entirely from the environment.

The embedded default (no variables set) is a SQLite database and a SQLite-backed job
queue in ./clientele-data, so `clientele demo` needs nothing but Python. Production sets
DATABASE_URL (PostgreSQL), REDIS_URL, SECRET_KEY and ALLOWED_HOSTS.
"""

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("CLIENTELE_DATA_DIR", Path.cwd() / "clientele-data")).resolve()


def _env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _dev_secret_key() -> str:
    """A random key kept in the data folder, so a laptop install needs no configuration
    and no secret is ever committed. Production must set SECRET_KEY."""
    key_file = DATA_DIR / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    from django.core.management.utils import get_random_secret_key

    key = get_random_secret_key()
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


DEBUG = _env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY") or _dev_secret_key()
ALLOWED_HOSTS = [
    h.strip() for h in os.environ.get("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",")
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_tables2",
    "django_htmx",
    "huey.contrib.djhuey",
    "clientele.core",
    "clientele.customers",
    "clientele.catalog",
    "clientele.sales",
    "clientele.imports",
    "clientele.segmentation",
    "clientele.channels",
    "clientele.campaigns",
    "clientele.plans",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "clientele.core.middleware.UserLanguageMiddleware",
    "clientele.core.middleware.CurrentUserMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "clientele.urls"
WSGI_APPLICATION = "clientele.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "clientele.core.navigation.navigation",
            ],
        },
    }
]

DEFAULT_SQLITE = f"sqlite:///{DATA_DIR / 'clientele.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", DEFAULT_SQLITE), conn_max_age=60, conn_health_checks=True
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web threads read while the job thread writes; a busy timeout instead
    # of "database is locked" errors under the embedded server's concurrency.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
if os.environ.get("CLIENTELE_TEST_DATABASE_NAME"):
    DATABASES["default"]["TEST"] = {"NAME": os.environ["CLIENTELE_TEST_DATABASE_NAME"]}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = ["clientele.core.permissions.RoleBackend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# Lock-out after repeated failed logins (per user name and per client address).
LOGIN_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
LOGIN_LOCKOUT_MINUTES = int(os.environ.get("LOGIN_LOCKOUT_MINUTES", "15"))

# Secure sessions: HTTP-only cookies, CSRF on every form, secure cookies and HSTS when
# served over HTTPS (SECURE=1 in production, where a proxy terminates TLS).
SECURE = _env_bool("SECURE", not DEBUG and bool(os.environ.get("SECRET_KEY")))
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 60 * 60 * 12
SESSION_COOKIE_SECURE = SECURE
CSRF_COOKIE_SECURE = SECURE
SECURE_SSL_REDIRECT = SECURE and _env_bool("SECURE_SSL_REDIRECT", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if SECURE else None
SECURE_HSTS_SECONDS = 31536000 if SECURE else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE
SECURE_HSTS_PRELOAD = SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

LANGUAGE_CODE = os.environ.get("LANGUAGE", "en")
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
DEFAULT_CURRENCY = os.environ.get("DEFAULT_CURRENCY", "CNY")

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
# WhiteNoise expects the folder even though it serves from the packages (see below).
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_ROOT = DATA_DIR / "files"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Serve static files straight from the installed packages: no collectstatic step is needed
# for the embedded server, and nothing ever loads from a CDN.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 10000

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "clientele.core.api_policy.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["clientele.core.api_policy.RolePermission"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "clientele.core.api_policy.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "clientele.core.api_policy.exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Clientele API",
    "DESCRIPTION": "Customers, contacts, consents, products, orders, interactions and feedback.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # Several models have a "kind"; name each enum so the schema has no collisions.
    "ENUM_NAME_OVERRIDES": {
        "CustomerKindEnum": "clientele.customers.choices.CustomerKind",
        "FeedbackKindEnum": "clientele.customers.choices.FeedbackKind",
        "ImportKindEnum": "clientele.imports.models.ImportKind",
        "ConsentChannelEnum": "clientele.customers.choices.ConsentChannel",
        "InteractionChannelEnum": "clientele.customers.choices.InteractionChannel",
        "SalesChannelEnum": "clientele.sales.models.SalesChannel",
        "MessageChannelEnum": "clientele.channels.choices.Channel",
        "OfferChannelEnum": "clientele.campaigns.choices.OfferChannel",
    },
}

DJANGO_TABLES2_TEMPLATE = "core/table.html"

# Background jobs: Redis in production, a SQLite file on the embedded default. Tests run
# jobs immediately unless they start a real consumer themselves.
REDIS_URL = os.environ.get("REDIS_URL", "")
HUEY_IMMEDIATE = _env_bool("HUEY_IMMEDIATE", False)
if REDIS_URL:
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": os.environ.get("HUEY_NAME", "clientele"),
        "url": REDIS_URL,
        "immediate": HUEY_IMMEDIATE,
    }
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "clientele",
        "filename": str(DATA_DIR / "jobs.sqlite3"),
        "immediate": HUEY_IMMEDIATE,
    }

# Classification runs the definitions scheduled "after each import" when an import of
# customers, orders or feedback commits.
CLIENTELE_CLASSIFY_AFTER_IMPORT = _env_bool("CLIENTELE_CLASSIFY_AFTER_IMPORT", True)

# A classification run computes and writes this many definitions at once, each on its own
# database connection (1: one after another): a single connection leaves all but one core
# idle while it computes or writes a million rows. On SQLite the writes still take turns.
CLIENTELE_CLASSIFY_WORKERS = max(1, int(os.environ.get("CLIENTELE_CLASSIFY_WORKERS", "2")))

# Channels: where messages go. Nothing is configured on the embedded default: SMS and
# e-mail are written to files in the data folder (see channels/adapters.py).
CLIENTELE_PUBLIC_URL = os.environ.get("CLIENTELE_PUBLIC_URL", "http://localhost:8000")
CLIENTELE_SMS_URL = os.environ.get("CLIENTELE_SMS_URL", "")
CLIENTELE_SMS_API_KEY = os.environ.get("CLIENTELE_SMS_API_KEY", "")
CLIENTELE_SMS_BATCH_SIZE = int(os.environ.get("CLIENTELE_SMS_BATCH_SIZE", "100"))
CLIENTELE_RECEIPT_SECRET = os.environ.get("CLIENTELE_RECEIPT_SECRET", "")
CLIENTELE_WEBHOOK_URL = os.environ.get("CLIENTELE_WEBHOOK_URL", "")
CLIENTELE_WEBHOOK_SECRET = os.environ.get("CLIENTELE_WEBHOOK_SECRET", "")
CLIENTELE_EMAIL_ADAPTER = os.environ.get(
    "CLIENTELE_EMAIL_ADAPTER", "smtp" if os.environ.get("EMAIL_HOST") else "file"
)
CLIENTELE_EMAIL_FROM = os.environ.get("CLIENTELE_EMAIL_FROM", "")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "30"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "webmaster@localhost")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
    "loggers": {"clientele": {"level": os.environ.get("LOG_LEVEL", "INFO")}},
}
