"""Vigil settings. Every value comes from the environment through config.env (12-factor)."""

import sys
from pathlib import Path

import csp.constants as csp
import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config.env import (
    BASE_DIR,
    derived_role_password,
    env_bool,
    env_int,
    env_list,
    env_secret,
    env_secret_lines,
    env_str,
)
from config.mail import smtp_security
from config.oidc import check_provider_settings, parse_group_roles

# pytest imports settings before any conftest can set the environment; tests run production-like
# otherwise (DEBUG off), so this is the only switch they get.
TESTING = "pytest" in sys.modules

DEBUG = env_bool("DEBUG", default=False)
_INSECURE_KEY = "django-insecure-vigil-development-only-key-never-use-in-production-0123456789"
SECRET_KEY = env_str("SECRET_KEY", default=_INSECURE_KEY if (DEBUG or TESTING) else None)
# The audit trail's keys (apps/audit/keys.py, README "Audit trail"), never stored in the database: the HMAC
# key of the chain (AUDIT_CHAIN_KEY or AUDIT_CHAIN_KEY_FILE) and the Ed25519 key that signs the checkpoints
# (AUDIT_SIGNING_KEY or AUDIT_SIGNING_KEY_FILE, a PEM private key). Unset: derived from SECRET_KEY.
AUDIT_CHAIN_KEY = env_secret("AUDIT_CHAIN_KEY", derived_from=SECRET_KEY)
# After a rotation, the earlier chain keys (oldest first, one per line) still verify the rows they keyed.
AUDIT_CHAIN_RETIRED_KEYS = env_secret_lines("AUDIT_CHAIN_RETIRED_KEYS_FILE")
AUDIT_SIGNING_KEY = env_secret("AUDIT_SIGNING_KEY", derived_from=SECRET_KEY)
# The key sealing the authenticators' TOTP keys at rest (apps/accounts/otp_at_rest.py), likewise.
TOTP_ENCRYPTION_KEY = env_secret("TOTP_ENCRYPTION_KEY", derived_from=SECRET_KEY)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", default="127.0.0.1,localhost" if (DEBUG or TESTING) else "")
VAR_DIR = Path(env_str("VAR_DIR", default=str(BASE_DIR / "var")))

INSTALLED_APPS = [
    "apps.tenancy.admin_config.VigilAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "guardian",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "apps.core",
    "apps.accounts",
    "apps.tenancy",
    "apps.catalog",
    "apps.audit",
    "apps.response",
    "apps.reporting",
    "apps.assessment",
    "apps.evidence",
    "apps.notifications",
    "apps.reviews",
    "apps.insights",
    "apps.web",
]

MIDDLEWARE = [
    # Request bodies capped per endpoint before anything reads them: 413 (apps/core/body_limits.py).
    "apps.core.body_limits.RequestBodyLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Pages and the admin wait for the second factor (apps/web/middleware.py; the API: authentication.py).
    "apps.web.middleware.SecondFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "apps.core.middleware.RequestOriginMiddleware",
    # PostgreSQL or Redis unreachable: 503 with Retry-After, not 500 (apps/core/unavailable.py).
    "apps.core.middleware.ServiceUnavailableMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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

# Database roles (design.md, "Database roles"; row-level security in apps/tenancy/rls.py):
# - "default": the restricted runtime role the app runs as (not the owner, not a superuser, no BYPASSRLS);
# - "owner": the tables' owner, used by `migrate` only;
# - "system": a separate connection for the few cross-tenant system jobs (scanners, integrity sweep).
# In production DATABASE_URL names the runtime role and DATABASE_OWNER_URL / DATABASE_SYSTEM_URL the other
# two. When DATABASE_OWNER_URL is unset, DATABASE_URL is taken for the owner (a superuser in development,
# CI and the embedded default) and `migrate` creates the runtime and system roles; the app then connects
# as them, with passwords derived from SECRET_KEY.
DATABASE_RUNTIME_ROLE = env_str("DATABASE_RUNTIME_ROLE", default="vigil_app")
DATABASE_SYSTEM_ROLE = env_str("DATABASE_SYSTEM_ROLE", default="vigil_system")


def _database(url: str) -> dict:
    config = dj_database_url.parse(url, conn_max_age=env_int("CONN_MAX_AGE", 60), conn_health_checks=True)
    config["OPTIONS"] = {
        **config.get("OPTIONS", {}),
        "connect_timeout": 5,
        # OLTP: the JIT compiler costs tens of ms on every list query whose estimate passes jit_above_cost
        # (the grant subqueries inflate it) and never pays back on keyset pages (bench/, issue 7).
        "options": "-c jit=off",
    }
    return config


def _derived_role(owner: dict, role: str) -> dict:
    return {
        **owner,
        "USER": role,
        "PASSWORD": derived_role_password(SECRET_KEY, role),
        "OPTIONS": {**owner["OPTIONS"]},
    }


_OWNER_URL = env_str("DATABASE_OWNER_URL", default="")
DATABASES_DERIVE_ROLES = not _OWNER_URL
_owner = _database(_OWNER_URL or env_str("DATABASE_URL"))
DATABASES = {
    "default": _derived_role(_owner, DATABASE_RUNTIME_ROLE)
    if DATABASES_DERIVE_ROLES
    else _database(env_str("DATABASE_URL")),
    "owner": _owner,
    "system": (
        _database(env_str("DATABASE_SYSTEM_URL"))
        if env_str("DATABASE_SYSTEM_URL", default="")
        else _derived_role(_owner, DATABASE_SYSTEM_ROLE)
        if DATABASES_DERIVE_ROLES
        else _owner
    ),
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        # An unreachable Redis fails fast instead of holding the request (apps/core/unavailable.py).
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    }
}
# Insights reports (ISO 27001 report, metrics, dashboards) served from the cache until their tenants change
# (apps/insights/cache.py); figures that move with the clock alone are at most this old. 0 = off (tests).
INSIGHTS_CACHE_SECONDS = env_int("INSIGHTS_CACHE_SECONDS", 0 if TESTING else 120)

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Guardian's anonymous user would be a tenant-less account nobody asked for.
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False

# Single sign-on with OpenID Connect (mozilla-django-oidc; apps/tenancy/oidc.py, apps/web/views/sso.py, README
# "Single sign-on"). Off unless OIDC_RP_CLIENT_ID is set; then the provider's endpoints come from
# OIDC_OP_DISCOVERY_URL (fetched on first use, cached per process) or from the explicit OIDC_OP_* variables,
# which win over discovery.
OIDC_RP_CLIENT_ID = env_str("OIDC_RP_CLIENT_ID", default="")
OIDC_ENABLED = bool(OIDC_RP_CLIENT_ID)
OIDC_RP_CLIENT_SECRET = env_str("OIDC_RP_CLIENT_SECRET", default=None if OIDC_ENABLED else "")
OIDC_OP_DISCOVERY_URL = env_str("OIDC_OP_DISCOVERY_URL", default="")
OIDC_OP_ISSUER = env_str("OIDC_OP_ISSUER", default="")
OIDC_OP_AUTHORIZATION_ENDPOINT = env_str("OIDC_OP_AUTHORIZATION_ENDPOINT", default="")
OIDC_OP_TOKEN_ENDPOINT = env_str("OIDC_OP_TOKEN_ENDPOINT", default="")
OIDC_OP_USER_ENDPOINT = env_str("OIDC_OP_USER_ENDPOINT", default="")
OIDC_OP_JWKS_ENDPOINT = env_str("OIDC_OP_JWKS_ENDPOINT", default="")
OIDC_RP_SIGN_ALGO = env_str("OIDC_RP_SIGN_ALGO", default="RS256")
OIDC_RP_SCOPES = env_str("OIDC_RP_SCOPES", default="openid email profile")
OIDC_PROVIDER_NAME = env_str("OIDC_PROVIDER_NAME", default="single sign-on")
OIDC_CREATE_USERS = env_bool("OIDC_CREATE_USERS", default=True)
OIDC_LINK_BY_EMAIL = env_bool("OIDC_LINK_BY_EMAIL", default=False)
OIDC_GROUPS_CLAIM = env_str("OIDC_GROUPS_CLAIM", default="groups")
OIDC_GROUP_ROLES = parse_group_roles(env_str("OIDC_GROUP_ROLES", default=""))
# The ID token's `amr` values (RFC 8176) that count as a second factor: explicit multi-factor, one-time
# codes, and proof of possession of a key (hardware, software, smart card). Or its `acr` in OIDC_MFA_ACR.
OIDC_MFA_AMR = env_list("OIDC_MFA_AMR", default="mfa,otp,hwk,swk,sc,pop")
OIDC_MFA_ACR = env_list("OIDC_MFA_ACR", default="")
OIDC_USE_PKCE = env_bool("OIDC_USE_PKCE", default=True)
OIDC_USE_NONCE = True
OIDC_TIMEOUT = env_int("OIDC_TIMEOUT", 10)
OIDC_DISCOVERY_TTL = env_int("OIDC_DISCOVERY_TTL", 3600)
OIDC_AUTHENTICATION_CALLBACK_URL = "web:sso-callback"
OIDC_ALLOW_UNSECURED_JWT = False
if OIDC_ENABLED:
    check_provider_settings(
        discovery_url=OIDC_OP_DISCOVERY_URL,
        endpoints={
            "OIDC_OP_AUTHORIZATION_ENDPOINT": OIDC_OP_AUTHORIZATION_ENDPOINT,
            "OIDC_OP_TOKEN_ENDPOINT": OIDC_OP_TOKEN_ENDPOINT,
            "OIDC_OP_USER_ENDPOINT": OIDC_OP_USER_ENDPOINT,
            "OIDC_OP_JWKS_ENDPOINT": OIDC_OP_JWKS_ENDPOINT,
        },
        sign_algo=OIDC_RP_SIGN_ALGO,
    )
    AUTHENTICATION_BACKENDS.append("apps.tenancy.oidc.VigilOIDCBackend")

LANGUAGE_CODE = "en"
TIME_ZONE = env_str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True
# Date and time formats that name the zone of each time shown (config/formats/en/formats.py).
FORMAT_MODULE_PATH = "config.formats"

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = VAR_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
    # Evidence bytes, content-addressed and never rewritten (apps/evidence). Any Django storage works, e.g.
    # an S3-compatible bucket with django-storages (README, "Evidence storage").
    "evidence": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(VAR_DIR / "evidence")},
    },
}
# Uploads stream to disk chunk by chunk (never held in memory). Evidence is spooled under VAR_DIR (created on
# demand; the same file system as the default evidence storage, so storing it is a rename, and never a
# memory-backed /tmp). Non-file form fields stay capped at Django's default 2.5 MB.
# Request bodies (apps/core/body_limits.py): every endpoint takes at most REQUEST_BODY_MAX_BYTES; those that
# take an upload (evidence, a report's attachment, a notice's copy) EVIDENCE_MAX_BYTES plus room for the form,
# through their own handler and spool dir (apps/core/files.py). A file part sent to any other endpoint is
# within REQUEST_BODY_MAX_BYTES, kept in memory: nothing of it lands in the temp dir.
REQUEST_BODY_MAX_BYTES = env_int("REQUEST_BODY_MAX_BYTES", 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = REQUEST_BODY_MAX_BYTES
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
EVIDENCE_UPLOAD_TEMP_DIR = env_str("EVIDENCE_UPLOAD_TEMP_DIR", default=str(VAR_DIR / "uploads"))
EVIDENCE_MAX_BYTES = env_int("EVIDENCE_MAX_BYTES", 5 * 1024**3)
# The integrity sweep: items re-hashed per batch, and at most this many per beat run (it resumes there).
EVIDENCE_SWEEP_BATCH = env_int("EVIDENCE_SWEEP_BATCH", 50)
EVIDENCE_SWEEP_MAX_PER_RUN = env_int("EVIDENCE_SWEEP_MAX_PER_RUN", 1000)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.tenancy.authentication.TokenAuthentication",
        # Browser sessions, refused (403) until a second factor the person needs has been passed.
        "apps.tenancy.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["apps.core.api.permissions.DenyAll"],
    # JSON only (endpoints that serve files, CSV or a printable page name their own renderers): DRF's
    # browsable API renders its forms after the view, outside the request's transaction and tenant context.
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "apps.core.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "apps.core.api.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "apps.core.api.exceptions.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "apps.core.api.throttling.UserRateThrottle",  # DRF's, letting requests through while Redis is down
        "apps.tenancy.throttling.TokenRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "user": env_str("API_RATE_LIMIT", default="6000/min"),
        "login": env_str("LOGIN_RATE_LIMIT", default="30/min"),
        # Per API token (apps.tenancy.throttling): below the per-user rate, so one runaway integration is
        # slowed down on its own token.
        "token": env_str("API_TOKEN_RATE_LIMIT", default="3000/min"),
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # Client address of the throttles and the token endpoint's lockout: the N-th X-Forwarded-For entry from
    # the right when N reverse proxies sit in front (NUM_PROXIES), else REMOTE_ADDR. Never DRF's default
    # (None), which trusts a client-supplied X-Forwarded-For and lets a guesser pick a new address per try.
    "NUM_PROXIES": env_int("NUM_PROXIES", 0),
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Vigil API",
    "DESCRIPTION": "Information-security incident management: reporting, assessment, response, evidence, "
    "notification clocks and reviews (ISO/IEC 27001 A.5.24-5.28, 6.8).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # One request media type per operation, as the contract says (JSON; uploads declare multipart/form-data
    # themselves): generated clients cannot choose between several and break (openapi-python-client).
    # The API still parses form bodies too.
    "PARSER_WHITELIST": ["rest_framework.parsers.JSONParser"],
    "ENUM_NAME_OVERRIDES": {
        "IncidentStatusEnum": "apps.response.choices.IncidentStatus",
        "ActionStatusEnum": "apps.response.choices.ActionStatus",
        "ReportStatusEnum": "apps.reporting.choices.ReportStatus",
        "ReportKindEnum": "apps.reporting.choices.ReportKind",
        "ReviewStatusEnum": "apps.reviews.choices.ReviewStatus",
        "CorrectiveActionStatusEnum": "apps.reviews.choices.CorrectiveActionStatus",
        "CorrectiveActionKindEnum": "apps.reviews.choices.ActionKind",
        "AuthorityKindEnum": "apps.notifications.choices.AuthorityKind",
        "ObligationStatusEnum": "apps.notifications.choices.ObligationStatus",
        "RegimeStepUnitEnum": "apps.catalog.choices.StepUnit",
        "RegimeStepScopeEnum": "apps.catalog.choices.StepScope",
        "CustodyActionEnum": "apps.evidence.choices.CustodyAction",
        "ManualCustodyActionEnum": "apps.evidence.choices.MANUAL_CUSTODY_ACTION_CHOICES",
        "TimelineKindEnum": "apps.response.choices.TimelineKind",
        "ManualTimelineKindEnum": "apps.response.choices.MANUAL_TIMELINE_KIND_CHOICES",
    },
    # Self-hosted: the docs page loads Swagger UI from our own static files, never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Error answers every endpoint can give (400/401/403/404/409/429), declared once: apps/core/api/schema.py
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "apps.core.api.schema.declare_error_responses",
    ],
}


def _broker_url(redis_url: str) -> str:
    # redis-py (the cache) spells a unix socket unix:///path?db=N; kombu wants redis+socket:///path?virtual_host=N.
    if not redis_url.startswith("unix://"):
        return redis_url
    path, _, query = redis_url.removeprefix("unix://").partition("?")
    db = dict(part.split("=", 1) for part in query.split("&") if "=" in part).get("db", "0")
    return f"redis+socket://{path}?virtual_host={db}"


CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", default=_broker_url(REDIS_URL))
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# A message taken by a worker that died is handed out again after this many seconds (Redis has no
# real acks); the integration tests shorten it for their own throwaway broker.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600),
    "unacked_restore_interval": env_int("CELERY_UNACKED_RESTORE_INTERVAL", 10),
    "unacked_restore_throttle": env_int("CELERY_UNACKED_RESTORE_THROTTLE", 10),
}
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "audit-record-chain-heads": {"task": "apps.audit.tasks.audit_record_chain_heads", "schedule": 24 * 3600},
    "idempotency-purge": {"task": "apps.core.tasks.idempotency_purge", "schedule": 3600},
    "evidence-integrity-sweep": {"task": "apps.evidence.tasks.evidence_integrity_sweep", "schedule": 3600},
    "obligation-reminders-scan": {
        "task": "apps.notifications.reminder_tasks.obligation_reminders_scan",
        "schedule": 60,
    },
    "training-reminders-scan": {
        "task": "apps.notifications.reminder_tasks.training_reminders_scan",
        "schedule": 60,
    },
    "outbox-relay": {"task": "apps.notifications.tasks.outbox_relay", "schedule": 60},
}

# Outbound messages (apps.notifications.delivery): e-mail through Django's e-mail backend (the console by
# default; SMTP as soon as EMAIL_HOST is set), webhooks over HTTPS, both retried with exponential backoff.
EMAIL_HOST = env_str("EMAIL_HOST", default="")
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", default="")
# Unset, the port decides: 465 implicit TLS, 587 STARTTLS, any other plain (config/mail.py).
EMAIL_USE_TLS, EMAIL_USE_SSL = smtp_security(
    port=EMAIL_PORT,
    use_tls=env_bool("EMAIL_USE_TLS", default=None),
    use_ssl=env_bool("EMAIL_USE_SSL", default=None),
)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))  # for the file-based backend
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", default="Vigil <vigil@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Where people reach this installation: the absolute links in notification e-mails. Development and tests:
# `make run`'s server; otherwise the first ALLOWED_HOSTS entry over https, unless that is a wildcard.
_SITE_HOST = next(iter(ALLOWED_HOSTS), "")
SITE_URL = env_str(
    "SITE_URL",
    default=f"http://127.0.0.1:{env_int('PORT', 8000)}"
    if (DEBUG or TESTING)
    else (f"https://{_SITE_HOST}" if _SITE_HOST and _SITE_HOST[0] not in ".*" else None),
).rstrip("/")
if not SITE_URL.startswith(("https://", "http://")):
    raise ImproperlyConfigured(
        f"SITE_URL must be an http(s) URL, e.g. https://vigil.example.org, not {SITE_URL!r}"
    )
# The right-hand side of the stable Message-ID of outbox e-mails (<outbox.<id>@domain>).
EMAIL_MESSAGE_ID_DOMAIN = env_str("EMAIL_MESSAGE_ID_DOMAIN", default="vigil.localhost")
OUTBOX_BACKOFF_BASE_SECONDS = env_int("OUTBOX_BACKOFF_BASE_SECONDS", 60)
OUTBOX_BACKOFF_MAX_SECONDS = env_int("OUTBOX_BACKOFF_MAX_SECONDS", 3600)
OUTBOX_EMAIL_MAX_ATTEMPTS = env_int("OUTBOX_EMAIL_MAX_ATTEMPTS", 10)
OUTBOX_RELAY_BATCH = env_int("OUTBOX_RELAY_BATCH", 200)
OUTBOX_RELAY_MAX_BATCHES = env_int("OUTBOX_RELAY_MAX_BATCHES", 50)
OUTBOX_RELAY_LEASE_SECONDS = env_int("OUTBOX_RELAY_LEASE_SECONDS", 300)
# How long /readyz and the admin index reuse their count of failed deliveries (one scan of the outbox).
OUTBOX_HEALTH_CACHE_SECONDS = 0 if TESTING else 30
WEBHOOK_RETRY_WINDOW_HOURS = env_int("WEBHOOK_RETRY_WINDOW_HOURS", 24)
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 10)
# Plain http:// webhooks to this machine (127.0.0.1, localhost): development and tests only.
WEBHOOK_ALLOW_HTTP_LOCALHOST = env_bool("WEBHOOK_ALLOW_HTTP_LOCALHOST", default=DEBUG or TESTING)

IDEMPOTENCY_TTL_HOURS = 24
REMINDER_SCAN_BATCH = env_int("REMINDER_SCAN_BATCH", 200)
REMINDER_SCAN_MAX_BATCHES = env_int("REMINDER_SCAN_MAX_BATCHES", 50)

# Production hardening: on unless DEBUG (tests talk plain HTTP to the test client).
_SECURE = not (DEBUG or TESTING)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=_SECURE)
SESSION_COOKIE_SECURE = _SECURE
CSRF_COOKIE_SECURE = _SECURE
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if _SECURE else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = _SECURE
SECURE_HSTS_PRELOAD = _SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): everything same-origin (the Swagger UI assets come from
# drf-spectacular-sidecar's static files); no inline script anywhere; an inline <style> only with the
# request's nonce ({{ request.csp_nonce }}: the Swagger UI page and the printable ISO report).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp.SELF],
        "script-src": [csp.SELF],
        "style-src": [csp.SELF, csp.NONCE],
        "img-src": [csp.SELF, "data:"],
        "font-src": [csp.SELF],
        "connect-src": [csp.SELF],
        "object-src": [csp.NONE],
        "base-uri": [csp.SELF],
        "form-action": [csp.SELF],
        "frame-ancestors": [csp.NONE],
    },
}
SESSION_COOKIE_HTTPONLY = True
# Browser sessions live in Redis (the cache), never in the database, whose app role cannot list them
# (issue 14; apps/tenancy/rls.py): a Redis restart signs people out of the pages (API tokens stay).
SESSION_ENGINE = "django.contrib.sessions.backends.cache"
if env_bool("USE_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]

LOGIN_URL = "/admin/login/"
# Two-factor sign-in (django-otp, apps/accounts/second_factor.py): the issuer authenticator apps show.
OTP_TOTP_ISSUER = "Vigil"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", default="INFO")},
}
