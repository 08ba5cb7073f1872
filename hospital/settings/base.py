"""Settings shared by every environment.

Environment-specific modules (local, production, test) import this module and then
set the secrets and the database. Everything that can differ between deployments is
read from the environment through django-environ; see README.md for the table.
"""

from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from hospital.db.pool import PoolOptions

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])

INSTALLED_APPS = [
    "hospital.apps.HospitalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_otp",
    "guardian",
    "csp",
    "hospital.apps.HospitalConfig",
    "accounts",
    "audit",
    "records",
    "beds",
    "compliance",
    # axes last: its signal receivers run after ours.
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "hospital.middleware.RequestIdMiddleware",
    "hospital.middleware.StickyPrimaryMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.SessionPolicyMiddleware",
    "accounts.middleware.MFARequiredMiddleware",
    "hospital.middleware.RequestContextMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "hospital.middleware.NoStoreForAuthenticatedMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "hospital.urls"
WSGI_APPLICATION = "hospital.wsgi.application"
ASGI_APPLICATION = "hospital.asgi.application"

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
                "accounts.context_processors.navigation",
            ],
        },
    },
]


# The project's backends: Django's, with a process-wide connection pool (hospital.db.backends).
SQLITE_ENGINE = "hospital.db.backends.sqlite3"
MYSQL_ENGINE = "hospital.db.backends.mysql"
_POOLED_ENGINES = {"django.db.backends.sqlite3": SQLITE_ENGINE, "django.db.backends.mysql": MYSQL_ENGINE}


def database_pool_from_env() -> dict:
    """OPTIONS["pool"]: idle connections kept per process (0: no pool) and how long (seconds)."""
    return {
        "size": env.int("DATABASE_POOL_SIZE", default=10),
        "max_age": env.float("DATABASE_POOL_MAX_AGE", default=1800.0),
        "max_idle": env.float("DATABASE_POOL_MAX_IDLE", default=300.0),
    }


SQLITE_WAL_CHECKPOINT_PAGES = 10_000


def database_from_env(default_url: str, var: str = "DATABASE_URL") -> dict:
    """Parse DATABASE_URL (or var) and add the per-engine options this platform relies on."""
    db = env.db_url(var, default=default_url)
    engine = db["ENGINE"]
    options = db.setdefault("OPTIONS", {})
    if engine == "django.db.backends.sqlite3":
        name = db.get("NAME") or ""
        if name and name != ":memory:" and not Path(name).is_absolute():
            db["NAME"] = str(BASE_DIR / name)
        # IMMEDIATE: a writer takes the write lock at BEGIN, so concurrent writers queue
        # instead of failing half-way with "database is locked" on lock upgrade.
        options.setdefault("transaction_mode", "IMMEDIATE")
        options.setdefault("timeout", 30)
        # Django turns foreign keys on itself. The WAL is checkpointed (copied into the database file,
        # with an fsync of each) every SQLITE_WAL_CHECKPOINT_PAGES pages instead of SQLite's 1,000, in
        # the request that crosses the line: the WAL file grows to about 40 MB, and a busy hospital's
        # writes (each with its audit row) pay for those fsyncs ten times less often.
        options.setdefault(
            "init_command",
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
            f" PRAGMA wal_autocheckpoint={SQLITE_WAL_CHECKPOINT_PAGES};",
        )
    elif engine in ("django.db.backends.mysql",):
        options.setdefault("charset", "utf8mb4")
        # The tables' collation, for the connection too: otherwise expressions the ORM builds (casts,
        # literals) carry the server's default and comparing them with a column fails (error 1267).
        options.setdefault("collation", "utf8mb4_unicode_ci")
        options.setdefault("isolation_level", "read committed")
        options.setdefault("init_command", "SET sql_mode='STRICT_TRANS_TABLES'")
        db.setdefault("TEST", {}).update({"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"})
    if engine in _POOLED_ENGINES:
        # Under ASGI each request runs in a new thread, so Django's per-thread connections are never
        # reused: the pool keeps them between requests instead (CONN_MAX_AGE must then be 0).
        db["ENGINE"] = _POOLED_ENGINES[engine]
        options.setdefault("pool", database_pool_from_env())
    db.setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
    pooled = engine in _POOLED_ENGINES and PoolOptions.from_setting(options["pool"]) is not None
    if pooled and db["CONN_MAX_AGE"] != 0:
        raise ImproperlyConfigured(
            f"{var}: CONN_MAX_AGE keeps connections per thread, the pool keeps them per process; "
            "set DATABASE_POOL_SIZE=0 to use CONN_MAX_AGE instead."
        )
    db["ATOMIC_REQUESTS"] = False
    return db


def databases_from_env(default_url: str) -> dict:
    """DATABASES: DATABASE_URL as "default", and DATABASE_REPLICA_URL as "replica" when it is set.

    The replica gets the same per-engine options. hospital.db_routers sends reads there when that
    is safe; tests read it as the default test database (a test mirror).
    """
    databases = {"default": database_from_env(default_url)}
    if env.str("DATABASE_REPLICA_URL", default=""):
        replica = database_from_env("", var="DATABASE_REPLICA_URL")
        if replica["ENGINE"] == SQLITE_ENGINE:
            # IMMEDIATE serializes writers by taking the write lock at BEGIN; nothing writes to a
            # replica, and a transaction on it (a test case opens one on every alias) must not
            # take the lock that the primary's writers wait for when both name the same file.
            replica["OPTIONS"]["transaction_mode"] = "DEFERRED"
        replica.setdefault("TEST", {})["MIRROR"] = "default"
        databases["replica"] = replica
    return databases


# The router is installed with a replica only (it does nothing without one in any case).
DATABASE_ROUTERS = ["hospital.db_routers.PrimaryReplicaRouter"] if env.str("DATABASE_REPLICA_URL", default="") else []
# After a request that wrote, the same browser reads the primary this long (a signed cookie).
REPLICA_STICKY_SECONDS = env.int("REPLICA_STICKY_SECONDS", default=5)
REPLICA_STICKY_COOKIE_NAME = "hospital_primary"


DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTHENTICATION_BACKENDS = [
    # Axes first: it refuses locked-out credentials before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.UsernameOrEmailBackend",
    "guardian.backends.ObjectPermissionBackend",
]

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "accounts.validators.MaximumLengthValidator", "OPTIONS": {"max_length": 128}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "accounts.validators.PasswordHistoryValidator", "OPTIONS": {"history": 5}},
]

LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:dashboard"
LOGOUT_REDIRECT_URL = "accounts:login"
PASSWORD_RESET_TIMEOUT = 60 * 60

# Sessions: database backed so a user's sessions can be listed and revoked.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_NAME = "hospital_session"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_IDLE_TIMEOUT = timedelta(minutes=env.int("SESSION_IDLE_MINUTES", default=15))
SESSION_ABSOLUTE_TIMEOUT = timedelta(hours=env.int("SESSION_ABSOLUTE_HOURS", default=12))
SESSION_COOKIE_AGE = int(SESSION_ABSOLUTE_TIMEOUT.total_seconds())
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# Re-entering the password unlocks sensitive pages (MFA devices) for this long.
REAUTH_WINDOW = timedelta(minutes=5)

CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "hospital.views.csrf_failure"

# Lockout. Per client: five failures for one account from one client lock that pair
# for 15 minutes (django-axes). Per account: twenty failures from any clients within an
# hour lock the account everywhere (accounts.lockout), until it cools off or IT security
# unlocks it.
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = False
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_USERNAME_CALLABLE = "accounts.identity.axes_username"
AXES_CLIENT_IP_CALLABLE = "hospital.net.axes_client_ip"
AXES_LOCKOUT_CALLABLE = "accounts.views.auth.lockout_response"
AXES_HTTP_RESPONSE_CODE = 429
AXES_VERBOSE = False
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "password", "otp_token"]
ACCOUNT_LOCKOUT_FAILURES = 20
ACCOUNT_LOCKOUT_WINDOW = timedelta(hours=1)
ACCOUNT_LOCKOUT_COOLOFF = timedelta(hours=1)
# Client IP: REMOTE_ADDR unless this many reverse proxies that append to
# X-Forwarded-For are configured in front of the application.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Hospital Platform")
OTP_TOTP_SYNC = True
MFA_BACKUP_CODE_COUNT = 10
# After n wrong codes in a row a device refuses to check codes for factor * 2**(n-1) seconds.
OTP_THROTTLE_FACTOR = 1

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_ROOT = VAR_DIR / "media"

CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://hospital")}

if env.str("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
else:
    # Embedded default: each email becomes a file in var/outbox/.
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(VAR_DIR / "outbox")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Hospital Platform <no-reply@hospital.invalid>")

# Text messages for notifications (accounts.sms). The default writes one file per message into
# var/sms-outbox/; "accounts.sms.ConsoleBackend" prints them; a gateway is another backend class.
SMS_BACKEND = env.str("SMS_BACKEND", default="accounts.sms.FileBackend")
SMS_FILE_PATH = env.str("SMS_FILE_PATH", default=str(VAR_DIR / "sms-outbox"))

# Celery: with no broker configured, tasks run in-process at commit time.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="") or None
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or None
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL is None
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
# Run by `celery -A hospital beat`. Both jobs are idempotent, so a missed or doubled run is harmless.
CELERY_BEAT_SCHEDULE = {
    "beds-release-expired-holds": {"task": "beds.tasks.release_expired_holds", "schedule": 60.0},
    "beds-notify-expiring-holds": {"task": "beds.tasks.notify_expiring_holds", "schedule": 60.0},
    "records-expire-grants": {"task": "records.tasks.expire_grants", "schedule": 60.0},
    "audit-seal-chain": {"task": "audit.tasks.seal_chain", "schedule": 5.0},
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "accounts.api.permissions.MFAVerified",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_RATES": {},
    "EXCEPTION_HANDLER": "hospital.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Hospital Platform API",
    "DESCRIPTION": "REST API of the hospital platform. Session authentication with a verified MFA session.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "BedStatusEnum": "beds.models.BedStatus",
        "AdmissionStatusEnum": "beds.models.AdmissionStatus",
    },
    "SERVE_PERMISSIONS": [
        "rest_framework.permissions.IsAuthenticated",
        "accounts.api.permissions.MFAVerified",
    ],
}

# Security headers.
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "hospital.logging.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["request_id"]},
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Axes logs usernames and IPs at INFO; keep them to warnings.
        "axes": {"level": "WARNING"},
        "django.security.DisallowedHost": {"level": "ERROR"},
        # Task success lines and kombu's note about the in-process transport are noise locally.
        "celery.app.trace": {"level": "WARNING"},
        "kombu.connection": {"level": "ERROR"},
    },
}

# Absolute base of links in emails (password reset, email verification).
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

# django-guardian: object permissions are never granted to anonymous visitors, so no
# "AnonymousUser" account is created in the user table.
ANONYMOUS_USER_NAME = None

# Auditing. Turning it off is recorded in the audit trail and warned about by check --deploy.
AUDIT_ENABLED = env.bool("AUDIT_ENABLED", default=True)
AUDIT_RETENTION_YEARS = env.int("AUDIT_RETENTION_YEARS", default=10)
# Events are linked into the hash chain after commit, at most this often per process (seconds);
# Celery beat seals the rest every few seconds, and verify/archive seal before they read.
AUDIT_SEAL_INTERVAL = env.float("AUDIT_SEAL_INTERVAL", default=1.0)

# Beds.
BED_HOLD_MINUTES = env.int("BED_HOLD_MINUTES", default=30)
# An automatic alert is raised when ICU or ventilator occupancy of a hospital reaches this share.
BED_ALERT_THRESHOLD = env.float("BED_ALERT_THRESHOLD", default=0.9)

# Live updates (WebSockets through Django Channels): in-memory by default, Redis when set.
_channel_layer_url = env.str("CHANNEL_LAYER_URL", default="")
CHANNEL_LAYERS = {
    "default": (
        {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [_channel_layer_url]}}
        if _channel_layer_url
        else {"BACKEND": "channels.layers.InMemoryChannelLayer"}
    )
}

# Records: emergency ("break-glass") access lasts this long.
BREAK_GLASS_HOURS = env.float("BREAK_GLASS_HOURS", default=1)
