"""Answers ``tools/list`` from the SDK's own earlier answer, per protocol version.

The tool list is static for the life of a process, yet the SDK validates and
re-serialises the whole result (tens of kilobytes of schemas) against the
protocol revision's models on every call: about a third of the server's CPU
per ``tools/list``. This middleware (the SDK's ``Server.middleware`` hook)
keeps the first wire-shaped answer the SDK produced for each protocol version
and returns it to later identical requests, which skip the SDK's validation
and serialisation. The answer is the SDK's, byte for byte. Requests whose only
parameter is ``_meta`` are answered this way too: 2026-07-28 clients send it on
every request (client info, capabilities), and it does not change the list; a
cursor or anything else goes to the SDK.
"""

from __future__ import annotations

from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerMiddleware, ServerRequestContext


class ToolListCache(ServerMiddleware[Any]):
    """Per process: protocol version → the SDK's serialised ``tools/list`` result."""

    def __init__(self) -> None:
        self._answers: dict[str, dict[str, Any]] = {}

    async def __call__(
        self, ctx: ServerRequestContext[Any, Any], call_next: CallNext
    ) -> HandlerResult:
        if ctx.method != "tools/list" or set(ctx.params or ()) - {"_meta"}:
            return await call_next(ctx)
        answer = self._answers.get(ctx.protocol_version)
        if answer is None:
            # The SDK's wire-form dict; a failure raises, and nothing is kept.
            answer = self._answers[ctx.protocol_version] = await call_next(ctx)
        # The SDK copies a result before adding to it; a copy here keeps the kept
        # answer out of reach of any later middleware all the same.
        return dict(answer)
