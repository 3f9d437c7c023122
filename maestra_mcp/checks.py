"""System checks for configuration mistakes: connectors that would break, purges that would
never run, a test-only setting outside the tests."""

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def check_public_url_is_https(app_configs, **kwargs):
    if settings.DEBUG or settings.MAESTRA_PUBLIC_URL.startswith("https://"):
        return []
    return [
        checks.Warning(
            "MAESTRA_PUBLIC_URL is not https.",
            hint="OAuth clients such as Claude and ChatGPT require an https issuer and MCP URL.",
            id="maestra_mcp.W001",
        )
    ]


@checks.register(checks.Tags.security, deploy=True)
def check_periodic_tasks_have_a_broker(app_configs, **kwargs):
    # Without a broker tasks run in-process when enqueued (the offboarding purge
    # still runs), but nothing runs CELERY_BEAT_SCHEDULE: session logs outlive the
    # retention the member page promises, and no sweeper retries a failed purge.
    if settings.DEBUG or settings.CELERY_BROKER_URL:
        return []
    return [
        checks.Warning(
            "CELERY_BROKER_URL is not set: session-log retention, the offboarding purge's "
            "sweeper and the OAuth clean-ups never run.",
            hint="Set CELERY_BROKER_URL (e.g. redis://host:6379/0) and run a Celery worker "
            "and one beat process (see the README's 'Running Celery').",
            id="maestra_mcp.W002",
        )
    ]


@checks.register(checks.Tags.security)
def check_cimd_test_server_is_unset(app_configs, **kwargs):
    # Not a deploy-only check: the setting lets the CIMD fetcher reach loopback
    # addresses and trust a private CA, which only the test suite's local server
    # may ever need. An Error stops migrate, runserver and check alike.
    if not settings.OAUTH_CIMD_TEST_SERVER:
        return []
    return [
        checks.Error(
            "OAUTH_CIMD_TEST_SERVER is set: the CIMD fetcher may reach non-public "
            "addresses and trusts an extra CA.",
            hint="Only the test suite sets it, for its local HTTPS server; remove it.",
            id="maestra_mcp.E001",
        )
    ]
