"""Reading an import file: UTF-8 decoded line by line, and the list of its invalid rows.

Part of :mod:`reporting.services.stats_import`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import chain

from reporting.errors import ImportProblem, StatsImportError


class ProblemList:
    """The file's invalid rows as they are found (in line order): one per row, the
    first ``PROBLEMS_LISTED`` kept, all counted."""

    def __init__(self) -> None:
        self.listed: list[ImportProblem] = []
        self.total = 0
        self._last_line: int | None = None

    def add(self, problem: ImportProblem) -> None:
        if problem.line is not None and problem.line == self._last_line:
            return  # the row is already reported (e.g. undecodable, then unparsable)
        self._last_line = problem.line
        self.total += 1
        if len(self.listed) < StatsImportError.PROBLEMS_LISTED:
            self.listed.append(problem)


def text_lines(lines: Iterable[str] | Iterable[bytes], problems: ProblemList) -> Iterator[str]:
    """``lines`` as text: byte lines decoded as UTF-8, an undecodable one reported by number."""
    iterator = iter(lines)
    first = next(iterator, None)
    if first is None:
        return
    if not isinstance(first, bytes):
        yield first
        yield from iterator
        return
    for number, line in enumerate(chain([first], iterator), start=1):
        try:
            yield line.decode("utf-8")
        except UnicodeDecodeError as error:
            problems.add(
                ImportProblem(
                    f"not UTF-8 text (byte 0x{line[error.start]:02x} at byte {error.start + 1} "
                    "of the line); save the file as UTF-8",
                    line=number,
                )
            )
            # Parsed all the same (the row is refused already) so later lines keep
            # their numbers and their own problems are found.
            yield line.decode("utf-8", errors="replace")
