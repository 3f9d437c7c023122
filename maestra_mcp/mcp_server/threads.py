"""Worker threads for the ORM work of MCP requests, reused across requests.

Each MCP request runs all its synchronous work (token check, policy, report,
session log, Django's request signals) on one thread of its own, like Django's
ASGI handler does — so concurrent requests run in parallel and a request's
database connection is the one its request_finished signal closes. Django's
handler makes a new thread (and so a new connection) per request; this pool
lends a single-thread executor to each request instead, so threads are reused
and, with ``DATABASE_CONN_MAX_AGE`` > 0, so are their connections.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

from asgiref.sync import ThreadSensitiveContext
from django.db import connections


class RequestThreads:
    """Lends one single-thread executor per in-flight request; keeps ``max_idle`` spare.

    Used only from the event loop's thread, so the idle list needs no lock.
    """

    def __init__(self, max_idle: int = 32) -> None:
        self.max_idle = max_idle
        self._idle: list[ThreadPoolExecutor] = []

    @asynccontextmanager
    async def request(self) -> AsyncIterator[None]:
        """Thread-sensitive sync work inside this block runs on the lent thread."""
        executor = self._idle.pop() if self._idle else self._new_executor()
        try:
            async with ThreadSensitiveContext(executor=executor):
                yield
        finally:
            if len(self._idle) < self.max_idle:
                self._idle.append(executor)
            else:
                executor.shutdown(wait=False)

    async def close(self) -> None:
        """Close the spare threads' database connections (kept with CONN_MAX_AGE > 0), then them."""
        while self._idle:
            executor = self._idle.pop()
            await asyncio.wrap_future(executor.submit(connections.close_all))
            executor.shutdown(wait=False)

    @staticmethod
    def _new_executor() -> ThreadPoolExecutor:
        return ThreadPoolExecutor(max_workers=1, thread_name_prefix="mcp-request")
