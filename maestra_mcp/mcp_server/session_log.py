"""What an MCP exchange looked like on the wire, for the session log.

The SDK owns the protocol; this module only observes the request body and the
JSON response passing through the endpoint, so the session log (one row per
request, ``maestra_mcp.session_logs.services.session_log_record``) can say
which method and tool were called, with which parameters, and what came back.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.types import Message, Receive, Send

from maestra_mcp.session_logs.models import McpSessionLog


class WireTap:
    """Wraps ASGI ``receive``/``send`` to keep the request body, status and JSON response."""

    def __init__(self, receive: Receive, send: Send) -> None:
        self._receive = receive
        self._send = send
        self._request = bytearray()
        self._response = bytearray()
        self._response_is_json = False
        self.status = 0

    async def receive(self) -> Message:
        message = await self._receive()
        if message["type"] == "http.request":
            self._request.extend(message.get("body", b""))
        return message

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            headers = dict(message.get("headers", []))
            self._response_is_json = headers.get(b"content-type", b"").startswith(
                b"application/json"
            )
        elif message["type"] == "http.response.body" and self._response_is_json:
            self._response.extend(message.get("body", b""))
        await self._send(message)

    def log_fields(self, protocol_version_header: str | None) -> dict[str, Any]:
        """``session_log_record`` keyword arguments describing this exchange."""
        request = _json_object(self._request)
        method = str(request.get("method", ""))
        # Only tool answers and errors are kept, so other answers (a tools/list is
        # tens of kilobytes) are not even parsed.
        parse_response = (
            method == "tools/call" or self.status >= 400 or b'"error"' in self._response
        )
        response = _json_object(self._response) if parse_response else {}
        params = request.get("params") if isinstance(request.get("params"), dict) else None
        tool_name = str(params.get("name", "")) if method == "tools/call" and params else ""
        protocol_version = protocol_version_header or (
            str(params.get("protocolVersion", "")) if method == "initialize" and params else ""
        )

        status, error, result = McpSessionLog.Status.SUCCESS, "", None
        if self.status >= 400:
            status = McpSessionLog.Status.ERROR
        if isinstance(response.get("error"), dict):
            status, error = McpSessionLog.Status.ERROR, str(response["error"].get("message", ""))
            result = response["error"]
        elif isinstance(response.get("result"), dict) and method == "tools/call":
            # Other methods' results (tool lists, capabilities) are the same for
            # everyone: only tool answers are worth keeping per request.
            tool_result = response["result"]
            result = tool_result.get("structuredContent", tool_result.get("content"))
            if tool_result.get("isError"):
                status = McpSessionLog.Status.ERROR
                error = " ".join(block.get("text", "") for block in tool_result.get("content", []))
        return {
            "method": method,
            "tool_name": tool_name,
            "params": params,
            "result": result,
            "error": error,
            "status": status,
            "protocol_version": protocol_version,
        }


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
