"""Errors the reporting core raises on purpose (anything else is a bug)."""

from __future__ import annotations

from dataclasses import dataclass


class ReportError(Exception):
    """A report cannot be produced as asked; ``message`` is safe to show an assistant.

    Raised for unknown filter values (with the valid ones listed), bad windows and
    brands the user may not see. The MCP layer turns it into an ``isError`` result.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ImportProblem:
    """One invalid row: where (1-based physical line, CSV column), what value, and why."""

    reason: str
    line: int | None = None
    column: str | None = None
    value: str | None = None

    def __str__(self) -> str:
        where = []
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        if self.value is not None:
            where.append(f"value {self.value!r}")
        prefix = ", ".join(where)
        return f"{prefix}: {self.reason}" if prefix else self.reason


class StatsImportError(Exception):
    """An import file is invalid; nothing from it was stored.

    ``problems`` lists the first invalid rows (at most ``PROBLEMS_LISTED``, in line
    order) and ``total`` counts them all; ``line``, ``column`` and ``value`` describe
    the first. ``line`` is the 1-based physical line number in the file (the
    header is line 1), ``column`` the CSV column name and ``value`` the offending raw
    value, so each problem points at the exact cell to fix.
    """

    PROBLEMS_LISTED = 50

    def __init__(
        self,
        message: str,
        *,
        line: int | None = None,
        column: str | None = None,
        value=None,
        problems: list[ImportProblem] | None = None,
        total: int | None = None,
    ) -> None:
        self.problems = problems or [ImportProblem(message, line, column, value)]
        self.total = total or len(self.problems)
        first = self.problems[0]
        self.line, self.column, self.value = first.line, first.column, first.value
        text = str(first) if self.total == 1 else f"{self.total} invalid rows; the first: {first}"
        super().__init__(text)
        self.message = text

    @classmethod
    def of_problems(cls, problems: list[ImportProblem], total: int) -> StatsImportError:
        """The error refusing a file with ``total`` invalid rows, ``problems`` the first."""
        return cls("", problems=problems[: cls.PROBLEMS_LISTED], total=total)
