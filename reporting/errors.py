"""Errors the reporting core raises on purpose (anything else is a bug)."""

from __future__ import annotations


class ReportError(Exception):
    """A report cannot be produced as asked; ``message`` is safe to show an assistant.

    Raised for unknown filter values (with the valid ones listed), bad windows and
    brands the user may not see. The MCP layer turns it into an ``isError`` result.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class StatsImportError(Exception):
    """An import file is invalid; nothing from it was stored.

    ``line`` is the 1-based physical line number in the file (the header is line 1),
    ``column`` the CSV column name and ``value`` the offending raw value, so the
    message points at the exact cell to fix.
    """

    def __init__(
        self, message: str, *, line: int | None = None, column: str | None = None, value=None
    ) -> None:
        self.line, self.column, self.value, self.reason = line, column, value, message
        where = []
        if line is not None:
            where.append(f"line {line}")
        if column is not None:
            where.append(f"column {column!r}")
        if value is not None:
            where.append(f"value {value!r}")
        prefix = ", ".join(where)
        super().__init__(f"{prefix}: {message}" if prefix else message)
        self.message = str(self)
