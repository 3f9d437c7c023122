"""What DOT does not keep: which token family each exchanged authorization code started.

DOT deletes a grant when its code is exchanged, so a second use of the code
looks like an unknown one. RFC 6749 §4.1.2: if a code is used more than once,
the authorization server SHOULD revoke all tokens previously issued from it —
a replayed code means it leaked. One row per exchange links the code (by
checksum, never in clear) to the refresh-token family it started; the family
is what rotation carries forward, so revoking it reaches every token issued
since. Rows are deleted by ``oauth.clear_expired_tokens`` after
``EXCHANGED_CODE_RETENTION``.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import models
from django.utils import timezone
from oauth2_provider.settings import oauth2_settings

# Codes live 60 s (AUTHORIZATION_CODE_EXPIRE_SECONDS); a replay days later is
# still worth acting on, but not forever.
EXCHANGED_CODE_RETENTION = timedelta(days=7)


class ExchangedCode(models.Model):
    code_checksum = models.CharField(max_length=64, unique=True)
    application = models.ForeignKey(
        oauth2_settings.APPLICATION_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    token_family = models.UUIDField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        app_label = "maestra_mcp"
        default_permissions = ()

    def __str__(self) -> str:
        return f"code exchanged {self.created_at:%Y-%m-%d %H:%M:%S} (family {self.token_family})"
