"""import_stats reporting every invalid row, undecodable lines, dry runs, standard input,
progress on a terminal and the offboarded refusal."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.models import Account
from reporting.errors import StatsImportError
from reporting.models import CampaignStat, Grain
from reporting.services.stats_import import ACCOUNT_OFFBOARDED, stats_import
from tests.support.reports import BASE_ROW, csv_text, flow_row, import_rows

# benchmarks/import_stats.py parses the summary line with these.
BENCHMARK_SECONDS = re.compile(r" in ([0-9.]+) s \(")


def stat_count(account) -> int:
    """Daily campaign statistics rows (rollups aside)."""
    return CampaignStat.objects.for_account(account).filter(grain=Grain.DAY).count()


def day_rows(count: int, **changes) -> list[dict]:
    """``count`` valid campaign rows, one a day from 2020-01-01."""
    first = date(2020, 1, 1)
    return [
        {**BASE_ROW, "date": (first + timedelta(days=n)).isoformat(), **changes}
        for n in range(count)
    ]


def test_every_invalid_row_is_counted_and_the_first_fifty_listed(acme):
    rows = day_rows(130)
    for n in range(0, 130, 2):  # 65 bad rows: lines 2, 4, …, 130
        rows[n] = {**rows[n], "sends": "lots"}
    with pytest.raises(StatsImportError) as raised:
        import_rows(acme, rows)
    error = raised.value
    assert error.total == 65
    assert [problem.line for problem in error.problems] == list(range(2, 102, 2))
    assert {(p.column, p.value) for p in error.problems} == {("sends", "lots")}
    assert error.message.startswith("65 invalid rows; the first: line 2, column 'sends'")
    assert stat_count(acme) == 0


def test_one_problem_per_row_and_repeated_keys_join_the_list(acme):
    rows = [
        BASE_ROW,  # line 2
        {**BASE_ROW, "date": "2024-13-01", "sends": "x"},  # line 3: two bad cells, one problem
        flow_row(),  # line 4
        BASE_ROW,  # line 5: repeats line 2
        {**BASE_ROW, "date": "2024-03-05", "channel": "fax"},  # line 6
        flow_row(),  # line 7: repeats line 4
        BASE_ROW,  # line 8: repeats line 2 again
    ]
    with pytest.raises(StatsImportError) as raised:
        import_rows(acme, rows)
    error = raised.value
    assert error.total == 5
    assert [(p.line, p.column) for p in error.problems] == [
        (3, "date"),
        (5, None),
        (6, "channel"),
        (7, None),
        (8, None),
    ]
    assert "repeats line 2" in error.problems[1].reason
    assert "repeats line 4" in error.problems[3].reason
    assert "repeats line 2" in error.problems[4].reason


def test_undecodable_lines_are_reported_by_line_and_reading_goes_on(acme):
    text = csv_text([BASE_ROW, flow_row(), {**BASE_ROW, "date": "2024-03-05", "sends": "-1"}])
    lines = text.encode().splitlines(keepends=True)
    lines[2] = lines[2].replace(b"Welcome", b"Bienvenue \xe9t\xe9")  # Latin-1, line 3
    with pytest.raises(StatsImportError) as raised:
        stats_import(account=acme, lines=iter(lines))
    problems = raised.value.problems
    assert [(p.line, p.column) for p in problems] == [(3, None), (4, "sends")]
    assert "not UTF-8 text (byte 0xe9" in problems[0].reason
    assert stat_count(acme) == 0


def test_command_reports_every_problem_on_its_own_line(acme, tmp_path):
    path = tmp_path / "stats.csv"
    path.write_text(csv_text([{**row, "revenue": "-1"} for row in day_rows(60)]))
    with pytest.raises(CommandError) as raised:
        call_command("import_stats", "--account", "acme", str(path))
    message = str(raised.value).splitlines()
    assert message[0] == "Nothing imported: 60 invalid rows (the first 50 listed)."
    assert message[1] == "  line 2, column 'revenue', value '-1': must not be negative"
    assert len(message) == 51 and message[-1].startswith("  line 51,")
    assert stat_count(acme) == 0


def test_command_names_the_line_of_non_utf8_input(acme, tmp_path):
    path = tmp_path / "stats.csv"
    path.write_bytes(csv_text([BASE_ROW, flow_row(source_name="Caf\xe9")]).encode("latin-1"))
    with pytest.raises(CommandError, match=r"Nothing imported\. line 3: not UTF-8 text"):
        call_command("import_stats", "--account", "acme", str(path))


def test_a_byte_order_mark_is_accepted_on_binary_input(acme, tmp_path, capsys):
    path = tmp_path / "stats.csv"
    path.write_bytes(b"\xef\xbb\xbf" + csv_text([BASE_ROW]).encode())
    call_command("import_stats", "--account", "acme", str(path))
    assert "Imported 1 rows into acme" in capsys.readouterr().out


def test_dry_run_validates_reports_and_writes_nothing(acme, tmp_path, capsys):
    path = tmp_path / "stats.csv"
    path.write_text(csv_text([BASE_ROW, flow_row()]))
    call_command("import_stats", "--account", "acme", "--dry-run", str(path))
    out = capsys.readouterr().out
    assert "Dry run: 2 valid rows for acme" in out
    assert "nothing written. Would be 2 new or changed, 0 unchanged; 1 new campaigns" in out
    assert stat_count(acme) == 0
    # The same file imported for real, then dry-run again: nothing would change.
    call_command("import_stats", "--account", "acme", str(path))
    call_command("import_stats", "--account", "acme", "--dry-run", str(path))
    assert "Would be 0 new or changed, 2 unchanged" in capsys.readouterr().out


def test_dry_run_refuses_a_bad_file_like_an_import(acme, tmp_path):
    path = tmp_path / "stats.csv"
    path.write_text(csv_text([{**BASE_ROW, "kind": "email"}]))
    with pytest.raises(CommandError, match="must be 'campaign' or 'flow'"):
        call_command("import_stats", "--account", "acme", "--dry-run", str(path))


def test_dash_reads_standard_input(acme, monkeypatch, capsys):
    data = csv_text([BASE_ROW, flow_row()]).encode()
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data)))
    call_command("import_stats", "--account", "acme", "-")
    assert "Imported 2 rows into acme" in capsys.readouterr().out
    assert stat_count(acme) == 1


def test_summary_line_is_what_the_benchmark_parses(acme, tmp_path, capsys):
    path = tmp_path / "stats.csv"
    path.write_text(csv_text([BASE_ROW]))
    call_command("import_stats", "--account", "acme", str(path))
    assert BENCHMARK_SECONDS.search(capsys.readouterr().out)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_on_a_terminal_then_the_summary(acme, tmp_path, monkeypatch, capsys):
    from reporting.management.commands import import_stats

    monkeypatch.setattr(import_stats, "PROGRESS_AFTER_SECONDS", 0)
    monkeypatch.setattr(import_stats, "PROGRESS_EVERY_SECONDS", 0)
    path = tmp_path / "stats.csv"
    path.write_text(csv_text(day_rows(11_000)))  # progress at 5,000, 10,000 and 11,000 rows
    terminal = Terminal()
    call_command("import_stats", "--account", "acme", str(path), stderr=terminal)
    progress = terminal.getvalue()
    assert re.search(r"\r5,000 rows, [0-9,]+ rows/s, about \d+ s left", progress)
    assert "\r10,000 rows" in progress
    assert progress.endswith("\r\033[K")  # cleared before the summary
    assert "Imported 11000 rows into acme" in capsys.readouterr().out


def test_an_exception_while_staging_propagates_and_nothing_is_stored(acme):
    """Raised inside the COPY (here by the progress callback), it abandons the import."""
    seen = []

    def progress(rows: int) -> None:
        seen.append(rows)
        if rows == 10_000:
            raise KeyboardInterrupt

    lines = csv_text(day_rows(11_000)).splitlines(keepends=True)
    with pytest.raises(KeyboardInterrupt):
        stats_import(account=acme, lines=lines, progress=progress)
    assert seen == [5_000, 10_000]
    assert stat_count(acme) == 0
    seen.clear()
    stats_import(account=acme, lines=lines, progress=seen.append)  # the connection still works
    assert (seen, stat_count(acme)) == ([5_000, 10_000, 11_000], 11_000)


def test_no_progress_when_not_on_a_terminal(acme, tmp_path, monkeypatch):
    from reporting.management.commands import import_stats

    monkeypatch.setattr(import_stats, "PROGRESS_AFTER_SECONDS", 0)
    path = tmp_path / "stats.csv"
    path.write_text(csv_text(day_rows(6_000)))
    not_a_terminal = io.StringIO()
    call_command("import_stats", "--account", "acme", str(path), stderr=not_a_terminal)
    assert not_a_terminal.getvalue() == ""


def test_an_offboarded_account_is_refused(acme, tmp_path):
    Account.objects.filter(pk=acme.pk).update(offboarded_at=timezone.now())
    path = tmp_path / "stats.csv"
    path.write_text(csv_text([BASE_ROW]))
    with pytest.raises(CommandError, match=r"acme was offboarded on .*: nothing is imported"):
        call_command("import_stats", "--account", "acme", str(path))
    # The service refuses too (e.g. offboarded after the command looked).
    with pytest.raises(StatsImportError, match=ACCOUNT_OFFBOARDED):
        import_rows(acme, [BASE_ROW])
    assert stat_count(acme) == 0
