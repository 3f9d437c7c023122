"""Django settings for Maestra MCP.

Every value comes from the environment through the typed helpers in
``maestra_mcp.env``. The database is PostgreSQL, always: ``DATABASE_URL`` is
required, and scripts/run and scripts/test set it to an embedded PostgreSQL when it
is unset. The other services have embedded defaults (in-process Celery tasks, a
per-process cache). Production sets
``DEBUG=false`` plus the variables listed in the README's configuration table.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from maestra_mcp.env import (
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_memory,
    env_origin,
    env_str,
)
from maestra_mcp.filesystem_broker import filesystem_transport_options

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", False)

# --- Secret key -------------------------------------------------------------
# The development key is public (it is in this file); it may only ever sign
# cookies on a developer's machine.
DEVELOPMENT_SECRET_KEY = "django-insecure-maestra-mcp-development-key-do-not-use-in-production"  # noqa: S105 - public by design, refused without DEBUG
SECRET_KEY = env_str("SECRET_KEY", DEVELOPMENT_SECRET_KEY)
# maestra_mcp.startup warns about the development key once when a server starts.
if SECRET_KEY == DEVELOPMENT_SECRET_KEY and not DEBUG:
    raise ImproperlyConfigured(
        "SECRET_KEY is not set and DEBUG is off: refusing to start with the public "
        "development key. Set SECRET_KEY to a long random value."
    )

# --- Public URL and hosts ---------------------------------------------------
# The origin users and OAuth clients reach us at. The OAuth issuer and every
# connector URL ({MAESTRA_PUBLIC_URL}/mcp/{system_name}) are derived from it.
MAESTRA_PUBLIC_URL = env_origin("MAESTRA_PUBLIC_URL", "http://127.0.0.1:8000")
_public_host = urlsplit(MAESTRA_PUBLIC_URL).hostname
ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS",
    [_public_host, "127.0.0.1", "localhost"] if DEBUG else [_public_host],
)
CSRF_TRUSTED_ORIGINS = [MAESTRA_PUBLIC_URL]

# --- Applications -----------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",  # the unaccent lookup (filter search)
    "servestatic",  # its configuration checks
    "rest_framework",
    "drf_spectacular",
    "oauth2_provider",
    "guardian",
    "maestra_mcp",
    "accounts",
    "permissions",
    "reporting",
]

MIDDLEWARE = [
    # First: probes are answered before the SSL redirect, the host check and sessions.
    "maestra_mcp.operations.health.HealthCheckMiddleware",
    # /metrics for the scraper (bearer METRICS_TOKEN), and every other request timed.
    "maestra_mcp.operations.metrics.MetricsMiddleware",
    # Next: every record logged during a request carries its id (and account).
    "maestra_mcp.operations.logs.RequestContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "servestatic.middleware.ServeStaticMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, so it sees the views' exceptions first: a database outage is a 503.
    "maestra_mcp.database_unavailable.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "maestra_mcp.urls"
WSGI_APPLICATION = "maestra_mcp.wsgi.application"
ASGI_APPLICATION = "maestra_mcp.asgi.application"

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

# --- Database ---------------------------------------------------------------
# PostgreSQL only. Without DATABASE_URL, scripts/run and scripts/test start the
# checkout's embedded PostgreSQL (scripts/_embedded_pg.py) and set it.
# Lower-case: not a setting, so Django's debug page never shows its password.
_database_url = env_str("DATABASE_URL", "")
if not _database_url:
    raise ImproperlyConfigured(
        "DATABASE_URL is not set. Run the app with scripts/run and the tests with "
        "scripts/test (they start an embedded PostgreSQL and set it), or point "
        "DATABASE_URL at a PostgreSQL server: postgres://user:password@host:5432/name"
    )


def _postgres(variable: str, url: str) -> dict:
    """The DATABASES entry for ``url`` (the value of ``variable``): PostgreSQL, with the
    session options and the connection pool every alias of the app gets."""
    config = dj_database_url.parse(url, conn_health_checks=True)
    if config["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured(
            f"{variable} must be a postgres:// URL (Maestra MCP runs on PostgreSQL only), "
            f"got one for {config['ENGINE']}"
        )
    # Memory per sort or hash of a query (it only takes what it needs). A large
    # account's report breakdown hashes thousands of groups of 19 sums (~4 MB for
    # 4,300 campaigns); at the server's default 4MB, more groups or a larger group
    # estimate send the planner to an on-disk sort (the 90-day breakdown, when it
    # still joined names first: 45 -> 25 ms with 32MB; see the README's benchmarks).
    # JIT off: reports are many short aggregates, and above its cost threshold
    # PostgreSQL spent ~20 ms compiling a 90-day breakdown that ran in ~35 ms.
    session = f"-c work_mem={env_memory('DATABASE_WORK_MEM', '32MB')} -c jit=off"
    options = config.setdefault("OPTIONS", {})
    options["options"] = f"{options['options']} {session}" if "options" in options else session
    # psycopg's pool, per process and per alias: a request borrows one connection
    # (on its first query) and request_finished hands it back, so connections are
    # reused without CONN_MAX_AGE and never exceed DATABASE_POOL_SIZE per process
    # and alias. A request that finds none free within DATABASE_POOL_TIMEOUT
    # seconds is answered 503 by the MCP endpoint. Size it so processes x size
    # stays under PostgreSQL's max_connections (default 100) with room for
    # workers and admin sessions (README "Scaling out").
    options["pool"] = {
        "min_size": 1,
        "max_size": env_int("DATABASE_POOL_SIZE", 10, minimum=1),
        "timeout": env_int("DATABASE_POOL_TIMEOUT", 5, minimum=1),
    }
    return config


DATABASES = {"default": _postgres("DATABASE_URL", _database_url)}
# A read replica for reports (README "Scaling out"): the alias "reporting", with
# the same options and pool as default. A test run reads the test database
# through it (MIRROR) instead of creating one on a read-only server.
_reporting_database_url = env_str("REPORTING_DATABASE_URL", "")
if _reporting_database_url:
    DATABASES["reporting"] = _postgres("REPORTING_DATABASE_URL", _reporting_database_url)
    DATABASES["reporting"]["TEST"] = {"MIRROR": "default"}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Reports read through this alias, so production can point them at a read
# replica (REPORTING_DATABASE_URL, or an alias a settings module adds to
# DATABASES); imports, session logs and OAuth always write to "default".
REPORTING_DATABASE_ALIAS = env_str(
    "REPORTING_DATABASE_ALIAS", "reporting" if _reporting_database_url else "default"
)

# --- Cache ------------------------------------------------------------------
# Holds the login and client-registration throttle counters. The embedded
# default is per process; with several workers set CACHE_URL=redis://host:6379/1
# so they share one count.
CACHE_URL = env_str("CACHE_URL", "")
if CACHE_URL and not CACHE_URL.startswith(("redis://", "rediss://")):
    raise ImproperlyConfigured(f"CACHE_URL must be a redis:// or rediss:// URL, got {CACHE_URL!r}")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
        if CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# --- Platform API (Django REST framework, /api/v1/) ---------------------------
# Session cookies with CSRF (the host platform's frontend, CSM scripts with a
# session). OAuth tokens are not accepted: they are bound to one account's MCP URL.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Maestra MCP platform API",
    "DESCRIPTION": "MCP feature, team MCP Access and brands, session logs and reports of "
    "one account; session-authenticated (CSRF on writes).",
    "VERSION": "1",
    # 3.1: the report schemas are pydantic's JSON Schema (nullable fields as type "null").
    "OAS_VERSION": "3.1.0",
    # PATCH bodies are documented with their required fields: the one PATCH (…/mcp) needs
    # mcp_enabled, while the default documents a "Patched" copy with nothing required.
    "COMPONENT_SPLIT_PATCH": False,
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
}

# --- Authentication ---------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    # Django's ModelBackend, refusing a throttled (username, address) pair before
    # the password check, on every login path (/login/, /admin/login/).
    "maestra_mcp.oauth.login_throttle.ThrottledModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login/"

# --- OAuth (django-oauth-toolkit) ------------------------------------------
# Private-use redirect URI schemes (RFC 8252 §7.1) a client may register;
# Cursor registers cursor://anysphere.cursor-mcp/oauth/callback.
OAUTH_PRIVATE_USE_REDIRECT_SCHEMES = env_list("OAUTH_PRIVATE_USE_REDIRECT_SCHEMES", ["cursor"])
# Anonymous client registrations (DCR) per client address and window.
OAUTH_DCR_RATE_LIMIT = env_int("OAUTH_DCR_RATE_LIMIT", 20, minimum=1)
OAUTH_DCR_RATE_WINDOW_SECONDS = env_int("OAUTH_DCR_RATE_WINDOW_SECONDS", 3600, minimum=1)
# Failed logins per (username, client address) before that pair is refused
# until the window ends.
OAUTH_LOGIN_FAILURE_LIMIT = env_int("OAUTH_LOGIN_FAILURE_LIMIT", 5, minimum=1)
OAUTH_LOGIN_FAILURE_WINDOW_SECONDS = env_int("OAUTH_LOGIN_FAILURE_WINDOW_SECONDS", 900, minimum=1)
# Dynamically registered clients with no token, grant or use for this many days
# are deleted by the periodic task oauth.remove_stale_clients.
OAUTH_STALE_CLIENT_DAYS = env_int("OAUTH_STALE_CLIENT_DAYS", 30, minimum=1)
# Client ID Metadata Documents (a client_id that is an https URL; README "OAuth"):
# needs outbound HTTPS to the clients' hosts. Off, clients fall back to DCR.
OAUTH_CIMD_ENABLED = env_bool("OAUTH_CIMD_ENABLED", True)
# The CIMD tests' local HTTPS server, {"addresses": [...], "ca_file": "..."}: the
# fetcher may then reach those loopback addresses and trusts that CA. Only the test
# suite sets it (never from the environment); check maestra_mcp.E001 refuses every
# manage.py command, check --deploy included, while it is set.
OAUTH_CIMD_TEST_SERVER = None

# Assistants Maestra recognises by where their OAuth answers go (each vendor's
# documented callback), badged "verified" on the consent and connections pages
# (maestra_mcp/oauth/clients.py). A registered client is recognised only when every
# redirect URI it registered matches one entry: an exact URI or a prefix; a CIMD
# client only when its document's host is one of the entry's client_id_hosts. A
# client that merely calls itself "Claude" from elsewhere is not Claude.
MCP_KNOWN_CLIENTS = [
    {
        "name": "Claude",
        # Hosts of its client ID metadata documents (CIMD): a document served from
        # one of them is this assistant, whatever its redirect URIs.
        "client_id_hosts": ["claude.ai", "claude.com"],
        "redirect_uris": [
            "https://claude.ai/api/mcp/auth_callback",
            "https://claude.com/api/mcp/auth_callback",
        ],
    },
    {
        "name": "ChatGPT",
        "client_id_hosts": ["chatgpt.com"],
        "redirect_uris": ["https://chatgpt.com/connector_platform_oauth_redirect"],
        # Newer connectors get a callback per connector under this path.
        "redirect_uri_prefixes": ["https://chatgpt.com/connector/oauth/"],
    },
    {"name": "Cursor", "redirect_uri_prefixes": ["cursor://anysphere.cursor-mcp/"]},
]

# The one scope: every token Maestra issues carries it and the MCP endpoint requires it.
MCP_SCOPE = "reports:read"
OAUTH2_PROVIDER = {
    "SCOPES": {MCP_SCOPE: "Read aggregated campaign and flow reports"},
    "DEFAULT_SCOPES": [MCP_SCOPE],
    "PKCE_REQUIRED": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "ACCESS_TOKEN_EXPIRE_SECONDS": 3600,
    "REFRESH_TOKEN_EXPIRE_SECONDS": 60 * 60 * 24 * 30,
    "OIDC_ISS_ENDPOINT": MAESTRA_PUBLIC_URL,
    # http stays for RFC 8252 loopback callbacks (Claude Code listens on
    # http://127.0.0.1:<port>); `cursor` is Cursor's private-use scheme.
    "ALLOWED_REDIRECT_URI_SCHEMES": ["http", "https", *OAUTH_PRIVATE_USE_REDIRECT_SCHEMES],
    # Claude Code registers http://localhost/callback and listens on an ephemeral port.
    "ALLOW_LOCALHOST_LOOPBACK": True,
    # A client that lost a refresh response may retry the old refresh token for
    # this long; our validator re-mints in the same family instead of reading the
    # stored token back, so this works with hashed storage (hence E001 silenced).
    "REFRESH_TOKEN_GRACE_PERIOD_SECONDS": 60,
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
    # Discovery (RFC 8414): code flow only; "none" for public clients (PKCE).
    "OAUTH2_RESPONSE_TYPES_SUPPORTED": ["code"],
    "OAUTH2_GRANT_TYPES_SUPPORTED": ["authorization_code", "refresh_token"],
    "OAUTH2_TOKEN_ENDPOINT_AUTH_METHODS_SUPPORTED": [
        "none",
        "client_secret_basic",
        "client_secret_post",
    ],
    # Open Dynamic Client Registration (RFC 7591): Claude, ChatGPT and Cursor
    # register themselves; maestra_mcp.oauth.views.registration rate-limits it
    # and enforces the redirect-URI policy.
    "DCR_ENABLED": True,
    "DCR_REGISTRATION_PERMISSION_CLASSES": ("oauth2_provider.dcr.AllowAllDCRPermission",),
    # Client ID Metadata Documents: DOT resolves and caches them; our fetcher adds
    # the registration policy, a hard deadline and the test server's seams.
    "CIMD_ENABLED": OAUTH_CIMD_ENABLED,
    "CIMD_METADATA_FETCHER": "maestra_mcp.oauth.cimd.MetadataFetcher",
    "CIMD_FETCH_TIMEOUT_SECONDS": 5,  # the whole fetch (DNS aside)
    "CIMD_MAX_DOCUMENT_SIZE": 64 * 1024,
    # Cache lifetime from the document's Cache-Control: max-age, clamped to
    # [0, 1 day]; no-store, no-cache or max-age=0 re-fetch on the next use; none
    # at all counts as the day. A failed re-fetch keeps the last good document
    # (retried after DOT's 60 s failure backoff).
    "CIMD_METADATA_MIN_AGE_SECONDS": 0,
    "CIMD_METADATA_MAX_AGE_SECONDS": 24 * 3600,
    # The one bearer-token check: exact audience (RFC 8707 resource = the account's MCP URL).
    "OAUTH2_VALIDATOR_CLASS": "maestra_mcp.oauth.validators.MaestraOAuth2Validator",
}
# DOT's W008 flags "http" in ALLOWED_REDIRECT_URI_SCHEMES. We keep it on purpose
# for native-app loopback redirects (see above), which the MCP clients need; DCR
# refuses http to any non-loopback host (maestra_mcp.oauth.registration).
# DOT's E001 says hashed token storage cannot have a refresh grace period,
# because DOT's grace path returns the stored token; ours does not (see
# MaestraOAuth2Validator._save_bearer_token and its tests).
SILENCED_SYSTEM_CHECKS = ["oauth2_provider.W008", "oauth2_provider.E001"]

# --- Internationalisation ---------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files -----------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# ServeStatic serves the admin's assets under uvicorn, with asynchronous file
# iterators (WhiteNoise's synchronous ones made Django warn under ASGI); in DEBUG
# straight from the apps (a missing file is then an error naming the folders
# searched), in production from `collectstatic` output (a missing file is a 404).
SERVESTATIC_USE_FINDERS = DEBUG

# --- MCP session logs -------------------------------------------------------
# Days a session's log is kept for debugging before it is purged (also purged
# at offboarding). The member page quotes this number in its privacy statement.
MCP_SESSION_LOG_RETENTION_DAYS = env_int("MCP_SESSION_LOG_RETENTION_DAYS", 30, minimum=1)
# Purges (retention and offboarding) delete at most this many rows per short
# transaction, optionally pausing between batches to spare a busy database; on
# PostgreSQL a batch waits at most the lock timeout, then the task retries later.
MCP_SESSION_LOG_PURGE_BATCH_SIZE = env_int("MCP_SESSION_LOG_PURGE_BATCH_SIZE", 1000, minimum=1)
MCP_SESSION_LOG_PURGE_BATCH_PAUSE_MS = env_int("MCP_SESSION_LOG_PURGE_BATCH_PAUSE_MS", 0, minimum=0)
MCP_SESSION_LOG_PURGE_LOCK_TIMEOUT_MS = env_int(
    "MCP_SESSION_LOG_PURGE_LOCK_TIMEOUT_MS", 5000, minimum=1
)

# --- Celery -----------------------------------------------------------------
# Without a broker, tasks run in-process (eager) so a newcomer needs nothing
# running; maestra_mcp.startup logs that once when a server starts. With a URL such as
# redis://127.0.0.1:6379/0 a real worker consumes them.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL == ""
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", "")
CELERY_BROKER_TRANSPORT_OPTIONS = {}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    # Dynamically registered clients unused for OAUTH_STALE_CLIENT_DAYS ("DCR sprawl").
    "oauth-remove-stale-clients": {
        "task": "oauth.remove_stale_clients",
        "schedule": crontab(minute=29, hour=4),
    },
    # DOT's cleartokens: expired tokens and grants, revoked refresh tokens.
    "oauth-clear-expired-tokens": {
        "task": "oauth.clear_expired_tokens",
        "schedule": crontab(minute=39),
    },
    # Session logs past MCP_SESSION_LOG_RETENTION_DAYS, deleted in batches.
    "session-logs-retention": {
        "task": "session_logs.purge_expired",
        "schedule": crontab(minute=17, hour=3),
    },
    # Re-enqueues the purge of offboarded accounts that still have logs (a task
    # lost with the broker, retries exhausted, a request that raced offboarding).
    "session-logs-sweep-offboarded": {
        "task": "session_logs.sweep_offboarded",
        "schedule": crontab(minute=47),
    },
}
if CELERY_BROKER_URL.startswith("filesystem://"):
    # kombu's filesystem transport: a real worker with no server, for newcomers
    # and for the embedded-default test variant. Folders are created by the app.
    CELERY_BROKER_TRANSPORT_OPTIONS = filesystem_transport_options(
        Path(env_str("CELERY_FILESYSTEM_DIR", str(BASE_DIR / ".celery-broker")))
    )

# --- Production hardening ---------------------------------------------------
# Behind a TLS-terminating proxy set SECURE_PROXY_SSL_HEADER=true so Django
# (and token audience checks) see https URLs.
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# --- Metrics ----------------------------------------------------------------
# /metrics (Prometheus) answers only "Authorization: Bearer <METRICS_TOKEN>";
# unset, it is off (404). PROMETHEUS_MULTIPROC_DIR (read by prometheus-client too)
# makes every process of an instance write its samples to that folder, summed by
# /metrics; wipe the folder when the instance starts (README, "Operations").
METRICS_TOKEN = env_str("METRICS_TOKEN", "")
PROMETHEUS_MULTIPROC_DIR = env_str("PROMETHEUS_MULTIPROC_DIR", "")

# --- Logging ----------------------------------------------------------------
# plain: human-readable lines (the default). json: one JSON object per line with
# the request id and account (maestra_mcp.operations.logs), for log collectors.
LOG_FORMAT = env_choice("LOG_FORMAT", "plain", ("plain", "json"))
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "json": {"()": "maestra_mcp.operations.logs.JsonFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
