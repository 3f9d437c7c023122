"""Writes to the session log: one row per MCP request, and the purges.

Data-protection rules enforced here, whatever the caller passes:

* the bearer token never reaches the table — only the AccessToken's row id and
  its OAuth client's id and name are kept; there is no parameter for headers or
  cookies, keys that name credentials are redacted anywhere in ``params`` and
  ``result``; ``Bearer …`` strings, token-shaped words, the request's own token
  and any live token's value are masked wherever they appear;
* every string is storable: NUL and lone surrogates, which PostgreSQL refuses,
  are replaced, and nesting is bounded;
* an offboarded account gets no new rows (checked under a row lock, see
  :func:`_insert_unless_offboarded`);
* oversized payloads are cut to a preview so one huge report cannot bloat the
  table.

Logging must never fail an MCP request, nor skip one: :func:`session_log_record`
catches every error, logs it and stores a minimal row instead. It stays off the request's
critical path because the MCP endpoint calls it (through ``sync_to_async``)
only after the response has been sent: the client never waits for the insert.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_refresh_token_model

from accounts.models import Account
from maestra_mcp.operations.metrics import observe_purge
from maestra_mcp.session_logs.models import McpSessionLog

logger = logging.getLogger(__name__)

REDACTED = "[redacted]"
# Past this nesting, a value is stored as this marker: the walks below stay far
# from Python's recursion limit whatever a caller passes (the MCP endpoint
# already refuses bodies nested deeper than its own bound).
MAX_DEPTH = 32
TOO_DEEP = "[too deep]"
# Credential-bearing keys, compared lower-cased with "-" read as "_".
_SECRET_KEYS = frozenset(
    {
        "authorization",
        "proxy_authorization",
        "cookie",
        "set_cookie",
        "token",
        "access_token",
        "refresh_token",
        "id_token",
        "client_secret",
        "password",
        "code_verifier",
    }
)
_BEARER = re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]+")
# The shapes of what DOT generates (oauthlib's generate_token: 30 characters of
# [A-Za-z0-9] for access and refresh tokens and codes; client secrets 128), as a
# whole word: a token pasted into any value is masked even with no telling key.
_TOKEN_SHAPED = re.compile(r"(?<![A-Za-z0-9])(?:[A-Za-z0-9]{30}|[A-Za-z0-9]{128})(?![A-Za-z0-9])")
# What PostgreSQL refuses: NUL in text and jsonb, and lone UTF-16 surrogates
# (psycopg cannot encode them as UTF-8). Replaced by U+FFFD.
_UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")
# Strings worth checking against the live tokens: a token's alphabet, no spaces.
_TOKEN_CANDIDATE = re.compile(r"[A-Za-z0-9._~+/=-]{20,512}")
MAX_TOKEN_CANDIDATES = 50
# Larger params/results are replaced by a preview: support needs the gist, not
# megabytes of timeline per row.
MAX_JSON_CHARS = 100_000


class _Encoder(DjangoJSONEncoder):
    """DjangoJSONEncoder (Decimal, dates, UUIDs) plus pydantic models."""

    def default(self, o: Any) -> Any:
        if hasattr(o, "model_dump"):
            return o.model_dump(mode="json")
        return super().default(o)


def storable_text(text: str) -> str:
    """``text`` with what PostgreSQL cannot store (NUL, lone surrogates) replaced."""
    return _UNSTORABLE.sub("\ufffd", text)


def _mask(text: str, known: frozenset[str]) -> str:
    text = _BEARER.sub(f"Bearer {REDACTED}", text)
    for value in known:
        if value in text:
            text = text.replace(value, REDACTED)
    return storable_text(_TOKEN_SHAPED.sub(REDACTED, text))


def _scrub(value: Any, known: frozenset[str] = frozenset(), depth: int = 0) -> Any:
    """``value`` with credentials masked and every string storable.

    ``known``: exact secret values (the request's own token, live tokens found in
    it) masked wherever they appear.
    """
    if depth > MAX_DEPTH:
        return TOO_DEEP
    if isinstance(value, dict):
        return {
            storable_text(str(key)): REDACTED
            if str(key).lower().replace("-", "_") in _SECRET_KEYS
            else _scrub(item, known, depth + 1)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_scrub(item, known, depth + 1) for item in value]
    if isinstance(value, str):
        return _mask(value, known)
    return value


def _strings(value: Any, depth: int = 0):
    """Every string value in ``value``, down to ``MAX_DEPTH``.

    Not the keys: ``_scrub`` masks values only, and every 2026-07-28 request's
    ``_meta`` has keys of a token's alphabet and length
    (``io.modelcontextprotocol/clientCapabilities``): two token lookups per request.
    """
    if depth > MAX_DEPTH:
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item, depth + 1)


def live_token_values(value: Any) -> frozenset[str]:
    """The strings in ``value`` that are the value of an access or refresh token we issued.

    Tokens are stored only as SHA-256 checksums, so candidates (a token's
    alphabet, 20-512 characters, at most ``MAX_TOKEN_CANDIDATES``) are hashed and
    looked up: one indexed query, and only when a candidate exists.
    """
    candidates = set()
    for text in _strings(value):
        candidates.update(_TOKEN_CANDIDATE.findall(text))
        if len(candidates) >= MAX_TOKEN_CANDIDATES:
            break
    if not candidates:
        return frozenset()
    by_checksum = {hashlib.sha256(c.encode()).hexdigest(): c for c in candidates}
    found = set()
    for model in (get_access_token_model(), get_refresh_token_model()):
        found.update(
            model.objects.filter(token_checksum__in=by_checksum).values_list(
                "token_checksum", flat=True
            )
        )
    return frozenset(by_checksum[checksum] for checksum in found)


def _to_json(value: Any, known: frozenset[str] = frozenset()) -> Any:
    """A JSON-safe, scrubbed, storable, size-capped copy of ``value`` (None stays None)."""
    if value is None:
        return None
    text = json.dumps(value, cls=_Encoder)
    # NaN and ±Infinity (a client may send them: the SDK's parser reads them) are not
    # JSON, and jsonb refuses them: kept as their names. Every value is scrubbed: a
    # regular expression over the whole text to skip clean payloads cost 13 ms for a
    # 64 KB report, five times the walk it was meant to save.
    plain = _scrub(json.loads(text, parse_constant=str), known)
    text = json.dumps(plain, ensure_ascii=False)
    if len(text) > MAX_JSON_CHARS:
        return {"truncated": True, "original_chars": len(text), "preview": text[:MAX_JSON_CHARS]}
    return plain


def _insert_unless_offboarded(log: McpSessionLog) -> bool:
    """Save ``log`` if its account is still served; whether it did.

    The account row is locked (``FOR NO KEY UPDATE``) for the insert's short
    transaction: ``account_offboard`` (``SELECT … FOR UPDATE``) waits for an
    in-flight write to commit — so that row exists before the purge is enqueued
    and is deleted by it — and a write that comes after sees ``offboarded_at``
    and stores nothing. The periodic sweeper is the backstop for any row that
    slips through anyway. Inside a caller's transaction this is a savepoint, so
    a failed insert does not abort it.
    """
    with transaction.atomic():
        served = Account.objects.select_for_update(no_key=True).filter(
            pk=log.account_id, offboarded_at__isnull=True
        )
        if not served.exists():
            return False
        log.save(force_insert=True)
    return True


def session_log_record(
    *,
    account: Account | None,
    status: McpSessionLog.Status | str,
    method: str = "",
    tool_name: str = "",
    params: Any = None,
    result: Any = None,
    error: str = "",
    user: Any = None,
    access_token: Any = None,
    protocol_version: str = "",
    user_agent: str = "",
    http_status: int | None = None,
    duration_ms: float = 0,
    secrets: tuple[str, ...] = (),
) -> McpSessionLog | None:
    """Record one MCP request; returns the row, or None when nothing was stored.

    ``access_token`` is DOT's ``AccessToken`` (or None): only its id, its user
    (when ``user`` is not given) and its application's client id and name are
    read. ``params`` and ``result`` may be any JSON-serialisable value or a
    pydantic model. ``secrets`` are exact values to mask wherever they appear
    (the request's own bearer token); tokens we issued are found and masked too.
    Requests for an unknown account are not stored (there is no tenant to
    attribute them to), nor are those of an offboarded account.

    Never raises: when the full row cannot be built or stored, a minimal one
    (who, which client, method, tool, status, and the failure's class as the
    error) is stored instead and the failure logged (without the payload), so
    every request leaves a row and a broken log write never fails the request.
    """
    if account is None:
        return None
    application = getattr(access_token, "application", None)
    if user is None and access_token is not None:
        user = access_token.user
    identity = {
        "account_id": account.pk,
        "user": user if getattr(user, "is_authenticated", False) else None,
        "oauth_client_id": storable_text(getattr(application, "client_id", "") or "")[:255],
        "oauth_client_name": storable_text(getattr(application, "name", "") or "")[:255],
        "token_id": getattr(access_token, "pk", None),
        "method": storable_text(method or "")[:100],
        "tool_name": storable_text(tool_name or "")[:100],
        "http_status": http_status,
        "duration_ms": max(0, round(duration_ms)),
    }
    try:
        known = frozenset(filter(None, secrets)) | live_token_values(params)
        log = McpSessionLog(
            **identity,
            protocol_version=storable_text(protocol_version or "")[:32],
            params=_to_json(params, known),
            result=_to_json(result, known),
            error=_mask(error or "", known),
            status=McpSessionLog.Status(status),
            user_agent=storable_text(user_agent or "")[:512],
        )
        return _store(log)
    except Exception as exc:
        logger.exception(
            "Could not store the MCP session log (account %s, method %r); storing a minimal row",
            account.pk,
            identity["method"],
        )
        failure = type(exc).__name__
    try:
        status = status if status in McpSessionLog.Status.values else McpSessionLog.Status.ERROR
        return _store(McpSessionLog(**identity, status=status, error=f"[log failed: {failure}]"))
    except Exception:
        logger.exception("Could not store the minimal MCP session log (account %s)", account.pk)
        return None


def _store(log: McpSessionLog) -> McpSessionLog | None:
    if not _insert_unless_offboarded(log):
        logger.info("Session log not stored: account %s is offboarded", log.account_id)
        return None
    return log


# --- Purges -------------------------------------------------------------------
def _delete_batches(queryset, *, on_batch=None) -> int:
    """Delete ``queryset`` in short transactions of at most the configured batch size.

    Each batch selects primary keys, then deletes them in its own transaction,
    so no statement holds locks on more than ``MCP_SESSION_LOG_PURGE_BATCH_SIZE``
    rows and writers interleave between batches. A batch gives up after
    ``MCP_SESSION_LOG_PURGE_LOCK_TIMEOUT_MS`` instead of queueing behind a long
    lock (the OperationalError makes the Celery task retry later).
    """
    batch_size = settings.MCP_SESSION_LOG_PURGE_BATCH_SIZE
    pause = settings.MCP_SESSION_LOG_PURGE_BATCH_PAUSE_MS / 1000
    total = 0
    while True:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT set_config('lock_timeout', %s, true)",
                    [f"{settings.MCP_SESSION_LOG_PURGE_LOCK_TIMEOUT_MS}ms"],
                )
            ids = list(queryset.order_by("pk").values_list("pk", flat=True)[:batch_size])
            if not ids:
                return total
            deleted, _ = McpSessionLog.objects.unscoped().filter(pk__in=ids).delete()
            if on_batch is not None:
                on_batch(deleted)
        total += deleted
        if pause:
            time.sleep(pause)


def session_log_purge_account(*, account_id: int) -> int | None:
    """Delete every session log of an offboarded account; record completion on it.

    Idempotent: a re-run deletes what is left (usually nothing) and refreshes
    the completion time. ``session_logs_purged_count`` is incremented in the
    same transaction as each batch, so it stays exact across crashes and
    retries. Returns the rows deleted by this run, or None when the account is
    gone or not offboarded (a purge never touches a served account).
    """
    account = Account.objects.filter(pk=account_id).first()
    if account is None:
        logger.info("Purge skipped: account %s no longer exists", account_id)
        return None
    if account.offboarded_at is None:
        logger.warning("Purge refused: account %s is not offboarded", account_id)
        return None

    def count_batch(deleted: int) -> None:
        Account.objects.filter(pk=account_id).update(
            session_logs_purged_count=Coalesce(F("session_logs_purged_count"), 0) + deleted
        )

    deleted = _delete_batches(
        McpSessionLog.objects.unscoped().filter(account_id=account_id), on_batch=count_batch
    )
    Account.objects.filter(pk=account_id).update(
        session_logs_purged_at=timezone.now(),
        session_logs_purged_count=Coalesce(F("session_logs_purged_count"), 0),
    )
    logger.info("Purged %s session log(s) of offboarded account %s", deleted, account_id)
    observe_purge(kind="offboarding", rows=deleted)
    return deleted


def session_log_purge_expired(*, now: datetime | None = None) -> int:
    """Delete logs older than ``MCP_SESSION_LOG_RETENTION_DAYS``; returns the count."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.MCP_SESSION_LOG_RETENTION_DAYS)
    deleted = _delete_batches(McpSessionLog.objects.unscoped().filter(created_at__lt=cutoff))
    logger.info("Retention: deleted %s session log(s) created before %s", deleted, cutoff)
    observe_purge(kind="retention", rows=deleted)
    return deleted
