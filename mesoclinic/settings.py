"""mesoclinic settings: one module, read from the environment.

Every value has a safe embedded default (SQLite, no Redis, mail to a folder) so a fresh clone runs
at once. A malformed value fails loudly at start-up rather than being silently ignored.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import dj_database_url
import django_stubs_ext
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from mesoclinic.safety import DEVELOPMENT_SECRET_KEY, refuse_non_loopback, unsafe_to_expose

# Lets Django's generic classes be subscripted at run time (`forms.ModelChoiceField[Room]`),
# as django-stubs types them.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false), got {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from None


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


# MESOCLINIC_ENV=production turns on the hardened settings below (see README, "Production").
ENVIRONMENT = env_str("MESOCLINIC_ENV", "development")
if ENVIRONMENT not in {"development", "production"}:
    raise ImproperlyConfigured(
        f"MESOCLINIC_ENV must be 'development' or 'production', got {ENVIRONMENT!r}"
    )
PRODUCTION = ENVIRONMENT == "production"

DEBUG = env_bool("DEBUG", not PRODUCTION)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY must be set in production")
    SECRET_KEY = DEVELOPMENT_SECRET_KEY

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,testserver")
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set in production")
# Fail closed: debug pages and a published key must never face a network (see mesoclinic/safety.py;
# runserver and run_clinic check their bind address the same way).
if unsafe_to_expose(debug=DEBUG, secret_key=SECRET_KEY):
    for host in ALLOWED_HOSTS:
        refuse_non_loopback(host, what="ALLOWED_HOSTS entry")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    # First, so that its runserver (which refuses a non-loopback address in development) wins.
    "mesoclinic",
    # The admin site is django-otp's: staff need a verified second factor there too.
    "mesoclinic.admin_apps.OTPAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "csp",
    "axes",
    "mesoclinic.audit",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "patients",
    "treatments.messaging",
    "treatments",
    "treatments.products",
    "treatments.courses",
    "treatments.online",
    "treatments.waitlist",
    "treatments.clinical",
    "treatments.accounts",
    "treatments.dataprotection",
]

MIDDLEWARE = [
    "mesoclinic.middleware.LoopbackOnlyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "mesoclinic.middleware.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "mesoclinic.session_limits.NoStoreMiddleware",
    "mesoclinic.session_limits.SessionLimitsMiddleware",
    # After the password: the second factor, then a password a manager set must be changed.
    "treatments.accounts.middleware.AccountGateMiddleware",
    "treatments.middleware.ClinicTimezoneMiddleware",
    # Last: turns a sign-in refused by a lock into the lock page (AXES_LOCKOUT_CALLABLE).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "mesoclinic.urls"
WSGI_APPLICATION = "mesoclinic.wsgi.application"
ASGI_APPLICATION = "mesoclinic.asgi.application"

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
                "mesoclinic.access.roles_context",
                "mesoclinic.nav.nav_context",
                "mesoclinic.session_limits.session_context",
                "treatments.clinical.context.clinical_authority",
            ],
        },
    },
]

# Database: SQLite by default; DATABASE_URL=postgres://... for PostgreSQL (CI and production).
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    try:
        DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL is malformed: {exc}") from None
    if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured("DATABASE_URL must point to PostgreSQL (postgres://...)")
    DATABASES["default"].setdefault("TEST", {})["NAME"] = env_str("TEST_DATABASE_NAME") or None
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(BASE_DIR / env_str("SQLITE_PATH", "db.sqlite3")),
            # IMMEDIATE takes SQLite's write lock at BEGIN, so the booking service's
            # check-then-insert cannot interleave with another writer.
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# AxesStandaloneBackend refuses any sign-in (staff login, /admin/login/) while a lock holds.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# Sign-in protection (django-axes; its database handler, so SQLite and PostgreSQL alike).
# SIGNIN_FAILURE_LIMIT failures within the cool-off lock that username from that address;
# SIGNIN_IP_FAILURE_LIMIT failures from one address, whatever the usernames, lock the address
# (mesoclinic/signin_locks.py). A lock lifts after the cool-off or when a clinic manager
# unlocks it (Clinic set-up -> Sign-in locks).
AXES_HANDLER = "mesoclinic.signin_locks.SigninLockHandler"
AXES_FAILURE_LIMIT = env_int("SIGNIN_FAILURE_LIMIT", 5)
SIGNIN_IP_FAILURE_LIMIT = env_int("SIGNIN_IP_FAILURE_LIMIT", 20)
SIGNIN_COOLOFF_MINUTES = env_int("SIGNIN_COOLOFF_MINUTES", 15)
AXES_COOLOFF_TIME = dt.timedelta(minutes=SIGNIN_COOLOFF_MINUTES)
AXES_COOLOFF_MESSAGE = (
    "Sign-in is locked after too many failed attempts. Try again in "
    f"{SIGNIN_COOLOFF_MINUTES} minutes, or ask a clinic manager to unlock it."
)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
# A refused attempt during a lock does not restart the cool-off: the lock lifts when it said.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# A success does not wipe the count (axes' default): else one valid account would let a client
# reset its address's count between guesses at the others.
AXES_RESET_ON_SUCCESS = False
AXES_LOCKOUT_CALLABLE = "mesoclinic.views.signin_locked"
AXES_CLIENT_IP_CALLABLE = "mesoclinic.client_ip.client_ip"
AXES_HTTP_RESPONSE_CODE = 429
AXES_VERBOSE = False
# Sign-ins are in the audit trail (mesoclinic.audit.signin_receivers); axes' own access log would
# keep a second copy of every request's query string.
AXES_DISABLE_ACCESS_LOG = True
# The client address is REMOTE_ADDR unless the app runs behind this many reverse proxies that
# each append to X-Forwarded-For (nginx: proxy_add_x_forwarded_for). Never more than really exist:
# a client could then choose its own address and dodge the lock.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)

# Session limits (mesoclinic/session_limits.py): signed out after SESSION_IDLE_MINUTES without a
# request, warned SESSION_WARNING_MINUTES before; signed out SESSION_MAX_HOURS after sign-in
# whatever the activity; the cookie ends with the browser (a shared front-desk computer).
SESSION_IDLE_MINUTES = env_int("SESSION_IDLE_MINUTES", 15)
SESSION_WARNING_MINUTES = env_int("SESSION_WARNING_MINUTES", 2)
SESSION_MAX_HOURS = env_int("SESSION_MAX_HOURS", 10)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_AGE = SESSION_MAX_HOURS * 3600

# A password-reset link works once (Django's token changes with the password) and for this long.
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT", 60 * 60)
# Second factor (django-otp): the name authenticator apps show beside the code.
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "mesoclinic")

LANGUAGE_CODE = "en-gb"
USE_I18N = True
USE_TZ = True
# Storage and the server clock are UTC; pages and schedules use the clinic's own zone
# (treatments.Clinic.timezone), activated per request by ClinicTimezoneMiddleware.
TIME_ZONE = "UTC"
# Used until a manager sets the clinic's zone, and by the demo clinic.
CLINIC_DEFAULT_TIMEZONE = env_str("CLINIC_TIMEZONE", "Europe/London")
# Phone numbers typed without a country code are read as numbers of this region (ISO 3166
# alpha-2) and stored in E.164, so "07700 900123" and "+44 7700 900123" are one number.
PHONE_REGION = env_str("PHONE_REGION", "GB").upper()

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
WHITENOISE_USE_FINDERS = DEBUG  # development serves straight from the source folders
STATICFILES_DIRS = [
    BASE_DIR / "static",
    # Bootstrap comes from the npm registry at set-up (make run / make test), never a CDN.
    ("bootstrap", BASE_DIR / "node_modules" / "bootstrap" / "dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Uploaded clinical files live outside static files and are served only by permission-checked views.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
# Photo uploads (treatments/clinical/services/images.py): refused above this file size, and above
# this pixel count read from the header before anything is decoded (also Pillow's
# MAX_IMAGE_PIXELS). The pixel limit bounds a worker's memory: bench/upload_memory.py.
UPLOAD_MAX_BYTES = env_int("UPLOAD_MAX_BYTES", 10 * 1024 * 1024)
UPLOAD_MAX_PIXELS = env_int("UPLOAD_MAX_PIXELS", 40_000_000)

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Email: a folder by default (var/mail), SMTP when EMAIL_HOST is set.
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "clinic@mesoclinic.localhost")
EMAIL_HOST = env_str("EMAIL_HOST")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", EMAIL_PORT == 587)
    EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
    EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20)
else:
    # One readable .eml file per message in var/mail/ (mesoclinic/mail_files.py).
    EMAIL_BACKEND = env_str("EMAIL_BACKEND", "mesoclinic.mail_files.EmailBackend")
    EMAIL_FILE_PATH = BASE_DIR / "var" / "mail"

# Celery over Redis. Without REDIS_URL the app runs with no broker: `make run` delivers due
# messages through the same dispatcher code in-process (see README).
REDIS_URL = env_str("REDIS_URL")
# The calendar caches its rendered grid (treatments/calendar/cache.py). Its keys carry a version
# read from the database on every request, so a per-process LocMemCache is correct too; Redis
# shares one cache between the workers.
CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "mesoclinic",
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "mesoclinic"}
    )
}
# The patients' signed links (/m/confirm/..., /m/cancel/...) answer 429 past this many requests
# per client address ("30/m": 30 a minute; django-ratelimit's format), counted in the cache above
# (mesoclinic/ratelimit.py).
PUBLIC_LINK_RATE_LIMIT = env_str("PUBLIC_LINK_RATE_LIMIT", "30/m")
if not re.fullmatch(r"[1-9]\d*/\d*[smhd]", PUBLIC_LINK_RATE_LIMIT):
    raise ImproperlyConfigured(
        f"PUBLIC_LINK_RATE_LIMIT must look like 30/m (count/period: s, m, h or d), "
        f"got {PUBLIC_LINK_RATE_LIMIT!r}"
    )
# Online booking requests (/book/): per client address and per email address typed, so a bot
# cannot flood one inbox with verification emails from many addresses.
ONLINE_BOOKING_IP_RATE = env_str("ONLINE_BOOKING_IP_RATE", "10/h")
ONLINE_BOOKING_EMAIL_RATE = env_str("ONLINE_BOOKING_EMAIL_RATE", "3/h")
for _name in ("ONLINE_BOOKING_IP_RATE", "ONLINE_BOOKING_EMAIL_RATE"):
    if not re.fullmatch(r"[1-9]\d*/\d*[smhd]", globals()[_name]):
        raise ImproperlyConfigured(f"{_name} must look like 3/h (count/period: s, m, h or d)")
# The client's address is REMOTE_ADDR. Behind a reverse proxy set this to the request header the
# proxy itself sets (e.g. HTTP_X_REAL_IP), or every patient shares the proxy's address.
RATELIMIT_IP_META_KEY = env_str("RATELIMIT_IP_META_KEY") or None
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_TIMEZONE = "UTC"
CELERY_ENABLE_UTC = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# Patient messages are database rows with a due time (treatments.messaging); beat only wakes the
# dispatcher and the reaper. A tick that waited longer than an interval in the queue is dropped,
# not run late. The other MESSAGING_* settings are read by treatments/messaging/conf.py.
MESSAGING_DISPATCH_INTERVAL = env_int("MESSAGING_DISPATCH_INTERVAL", 60)
CELERY_BEAT_SCHEDULE = {
    name: {
        "task": task,
        "schedule": float(MESSAGING_DISPATCH_INTERVAL),
        "options": {"expires": float(MESSAGING_DISPATCH_INTERVAL)},
    }
    for name, task in [
        ("messaging-dispatch-due", "messaging.dispatch_due"),
        ("messaging-reap", "messaging.reap"),
        # Offers expire and the next batch of the waiting list goes out.
        ("waitlist-tick", "waitlist.tick"),
        # Requests the desk never decided before their start are closed, the patient told.
        ("online-lapse", "online.lapse"),
    ]
}
# Erasure requests whose retention period has ended are completed once a day (the job is safe
# to run twice; a missed day is caught up by the next run).
CELERY_BEAT_SCHEDULE["dataprotection-erase-due"] = {
    "task": "dataprotection.erase_due",
    "schedule": crontab(hour=2, minute=30),
}

# Content-Security-Policy (django-csp 4.0), enforced on every response. No inline script or style
# anywhere: scripts are static files under static/js/ that read data- attributes or json_script;
# htmx is told not to inject its indicator <style> (meta htmx-config in base.html). data: images
# are the drawn signature and Bootstrap's inline SVG icons.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}
# Permissions-Policy (mesoclinic.middleware.PermissionsPolicyMiddleware): the app uses no device
# or browser feature, so every powerful one is switched off for the page and any frame.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "encrypted-media",
        "geolocation",
        "gyroscope",
        "hid",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
}

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # WeasyPrint (the export's PDF) logs every rendering step at INFO.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
