"""System checks for configuration mistakes that would break connectors."""

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
