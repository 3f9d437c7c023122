"""import_stats: upsert, idempotency, atomicity and every bad-input error."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, ManagementUtility, call_command
from django.db import connection

from reporting.errors import StatsImportError
from reporting.models import (
    Brand,
    Campaign,
    CampaignFolder,
    CampaignStat,
    Flow,
    FlowStat,
    Goal,
    Grain,
)
from reporting.services.stats_import import COLUMNS, stats_import
from tests.support.reports import BASE_ROW, csv_text, flow_row, import_rows


def _days(model, account):
    return model.objects.for_account(account).filter(grain=Grain.DAY)


def _stats(account):
    return sorted(
        _days(CampaignStat, account).values_list(
            "campaign__external_id",
            "period_start",
            "channel",
            "sends",
            "delivered",
            "opens",
            "revenue",
        )
    )


def _everything(account) -> tuple[int, ...]:
    return tuple(
        model.objects.for_account(account).count()
        for model in (Brand, Goal, CampaignFolder, Campaign, Flow, CampaignStat, FlowStat)
    )


def test_import_creates_dimensions_and_rows(acme):
    result = import_rows(
        acme,
        [
            BASE_ROW,
            {**BASE_ROW, "channel": "sms", "opens": "", "clicks": "3", "revenue": "0"},
            flow_row(brand="acme home", goal="Retention"),  # same brand, other case
        ],
    )
    assert (result.rows, result.written, result.campaigns_created, result.flows_created) == (
        3,
        3,
        1,
        1,
    )
    campaign = Campaign.objects.for_account(acme).select_related("folder", "brand", "goal").get()
    assert (campaign.external_id, campaign.name, campaign.activation_type) == (
        "c1",
        "Spring sale",
        "one_time",
    )
    assert (campaign.folder.name, campaign.brand.name, campaign.goal.name) == (
        "Promotions",
        "Acme Home",
        "Sales",
    )
    assert list(Brand.objects.for_account(acme).values_list("name", flat=True)) == ["Acme Home"]
    sms = _days(CampaignStat, acme).get(channel="sms")
    assert sms.opens is None and sms.clicks == 3  # empty = not tracked, not zero
    assert _days(FlowStat, acme).get().flow.name == "Welcome"


def test_reimport_changes_nothing_and_changed_rows_update(acme):
    rows = [BASE_ROW, {**BASE_ROW, "date": "2024-03-05"}, flow_row()]
    import_rows(acme, rows)
    before, counts = _stats(acme), _everything(acme)
    again = import_rows(acme, rows)
    assert (again.written, again.unchanged) == (0, 3)
    assert _stats(acme) == before and _everything(acme) == counts

    changed = import_rows(
        acme, [{**BASE_ROW, "sends": "120", "revenue": "99.99", "source_name": "Spring SALE"}]
    )
    assert changed.written == 1
    row = _days(CampaignStat, acme).get(period_start="2024-03-04")
    assert (row.sends, row.revenue) == (120, Decimal("99.99"))
    assert Campaign.objects.for_account(acme).get().name == "Spring SALE"  # latest import wins


def _blocks_read(*models) -> int:
    """The heap blocks of the tables of ``models`` this transaction has read."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT CAST(SUM(pg_stat_get_xact_blocks_fetched(CAST(name AS regclass))) AS integer) "
            "FROM unnest(CAST(%s AS text[])) AS name",
            [[model._meta.db_table for model in models]],
        )
        return cursor.fetchone()[0]


def test_a_first_import_into_tables_analysed_while_empty_reads_in_proportion_to_its_rows(acme):
    """Tables analysed while empty (a restore then ``vacuumdb --analyze``, or autovacuum
    after the only account with rows was purged) are planned as holding no rows. The day
    upsert once inserted the keys an anti-join found missing in the table the same INSERT
    grew: a nested loop rescanned it for every staged row, and a first import of
    1,000,000 rows ran for over ten minutes. Counted, not timed: the day tables' blocks
    read must grow with the file's rows, not with their square."""
    with connection.cursor() as cursor:
        for model in (CampaignStat, FlowStat):
            cursor.execute(f"ANALYZE {model._meta.db_table}")
    before = _blocks_read(CampaignStat, FlowStat)
    first = date(2020, 1, 1)
    rows = [
        {
            **BASE_ROW,
            "source_id": f"c{n % 40}",
            "date": (first + timedelta(days=n // 40)).isoformat(),
        }
        for n in range(2_000)
    ] + [
        flow_row(source_id=f"f{n % 10}", date=(first + timedelta(days=n // 10)).isoformat())
        for n in range(500)
    ]
    result = import_rows(acme, rows)
    assert result.written == 2_500
    # 3,536 blocks here (the rows' own and the rollups' reads); 49,956 when the INSERT
    # rescanned the table it grew, 6,036 with ON CONFLICT DO NOTHING.
    assert _blocks_read(CampaignStat, FlowStat) - before <= 4 * len(rows)


def test_latest_row_of_a_file_names_the_campaign(acme):
    import_rows(
        acme,
        [
            {**BASE_ROW, "source_name": "Old", "folder": ""},
            {**BASE_ROW, "date": "2024-03-05", "source_name": "New", "folder": "Seasonal"},
        ],
    )
    campaign = Campaign.objects.for_account(acme).select_related("folder").get()
    assert (campaign.name, campaign.folder.name) == ("New", "Seasonal")


def test_columns_in_any_order(acme):
    columns = list(reversed(COLUMNS))
    import_rows(acme, [BASE_ROW], columns=columns)
    assert _stats(acme) == [
        ("c1", date(2024, 3, 4), "email", 100, 90, 30, Decimal("80.50")),
    ]


def test_kind_channel_and_activation_type_are_read_ignoring_case_and_spaces(acme):
    import_rows(
        acme,
        [{**BASE_ROW, "kind": " Campaign", "channel": "EMAIL ", "activation_type": "One_Time"}],
    )
    assert _stats(acme) == [
        ("c1", date(2024, 3, 4), "email", 100, 90, 30, Decimal("80.50")),
    ]
    assert Campaign.objects.for_account(acme).get().activation_type == "one_time"


def test_imports_into_its_account_only(acme, globex):
    import_rows(acme, [BASE_ROW])
    import_rows(globex, [{**BASE_ROW, "sends": "7", "delivered": "7", "bounces": "0"}])
    assert [r[3] for r in _stats(acme)] == [100]
    assert [r[3] for r in _stats(globex)] == [7]
    assert (
        Campaign.objects.for_account(acme).get().pk != Campaign.objects.for_account(globex).get().pk
    )


BAD_ROWS = [
    # (changes to the row, column, value, words of the reason)
    ({"date": "2024-02-30"}, "date", "2024-02-30", "not a valid date"),
    ({"date": "04/03/2024"}, "date", "04/03/2024", "YYYY-MM-DD"),
    ({"date": "20240304"}, "date", "20240304", "YYYY-MM-DD"),
    ({"kind": "journey"}, "kind", "journey", "'campaign' or 'flow'"),
    ({"channel": "fax"}, "channel", "fax", "valid: email, sms, mobile_push"),
    ({"sends": "-5"}, "sends", "-5", "must not be negative"),
    ({"orders": "1.5"}, "orders", "1.5", "whole number"),
    ({"clicks": "many"}, "clicks", "many", "whole number"),
    ({"bounces": ""}, "bounces", "", "is required"),
    ({"sends": "99999999999"}, "sends", "99999999999", "whole number between 0"),
    ({"delivered": "101"}, "delivered", "101", "exceeds sends (100)"),
    ({"bounces": "101"}, "bounces", "101", "exceeds sends (100)"),
    ({"revenue": "-1.00"}, "revenue", "-1.00", "must not be negative"),
    ({"revenue": "12.345"}, "revenue", "12.345", "at most 2 decimals"),
    ({"revenue": "1e3"}, "revenue", "1e3", "amount"),
    ({"brand": ""}, "brand", "", "is required"),
    ({"goal": "  "}, "goal", "  ", "is required"),
    ({"source_id": ""}, "source_id", "", "is required"),
    ({"source_name": ""}, "source_name", "", "is required"),
    ({"source_name": "x" * 256}, "source_name", "x" * 256, "longer than 255"),
    ({"source_id": "c\x001"}, "source_id", "c\x001", "contains a NUL character"),
    ({"source_name": "Sale\x00"}, "source_name", "Sale\x00", "contains a NUL character"),
    ({"brand": "\x00Acme"}, "brand", "\x00Acme", "contains a NUL character"),
    ({"activation_type": ""}, "activation_type", "", "required for campaigns"),
    ({"activation_type": "weekly"}, "activation_type", "weekly", "valid: one_time"),
]


@pytest.mark.parametrize(("changes", "column", "value", "reason"), BAD_ROWS)
def test_a_bad_cell_names_line_column_value_and_nothing_is_stored(
    acme, changes, column, value, reason
):
    good = [BASE_ROW, flow_row(), {**BASE_ROW, "date": "2024-03-05"}]
    with pytest.raises(StatsImportError) as raised:
        import_rows(acme, [*good, {**BASE_ROW, "date": "2024-03-06", **changes}])
    error = raised.value
    assert (error.line, error.column, error.value) == (5, column, value)
    assert f"line 5, column {column!r}, value {value!r}" in error.message
    assert reason in error.message
    assert _everything(acme) == (0,) * 7  # atomic: not even the dimensions


@pytest.mark.parametrize(
    ("changes", "column"),
    [({"activation_type": "trigger"}, "activation_type"), ({"folder": "Promotions"}, "folder")],
)
def test_flow_rows_refuse_campaign_only_fields(acme, changes, column):
    with pytest.raises(StatsImportError, match="must be empty for flows") as raised:
        import_rows(acme, [flow_row(**changes)])
    assert (raised.value.line, raised.value.column) == (2, column)


def test_missing_unknown_and_repeated_columns(acme):
    with pytest.raises(StatsImportError, match=r"line 1: missing column\(s\): revenue"):
        import_rows(acme, [BASE_ROW], columns=[c for c in COLUMNS if c != "revenue"])
    with pytest.raises(StatsImportError, match=r"column 'budget'.*unknown column"):
        import_rows(acme, [BASE_ROW], columns=[*COLUMNS, "budget"])
    with pytest.raises(StatsImportError, match=r"column 'sends'.*appears twice"):
        import_rows(acme, [BASE_ROW], columns=[*COLUMNS, "sends"])
    assert _everything(acme) == (0,) * 7


def test_wrong_field_count_empty_file_and_header_only(acme):
    text = csv_text([BASE_ROW]) + "2024-03-05,campaign,c1\n"
    with pytest.raises(StatsImportError, match="line 3: has 3 fields, the header has 18"):
        stats_import(account=acme, lines=text.splitlines(keepends=True))
    with pytest.raises(StatsImportError, match="line 1: the file is empty"):
        stats_import(account=acme, lines=[])
    with pytest.raises(StatsImportError, match="header but no rows"):
        import_rows(acme, [])
    assert _everything(acme) == (0,) * 7


def test_a_key_twice_in_one_file_is_refused_naming_both_lines(acme):
    with pytest.raises(StatsImportError, match="line 4: repeats line 2") as raised:
        import_rows(acme, [BASE_ROW, flow_row(), {**BASE_ROW, "sends": "101", "delivered": "1"}])
    assert raised.value.line == 4
    assert _everything(acme) == (0,) * 7


@pytest.mark.parametrize(
    "existing",
    [
        [],  # new days only: rows inserted as they are
        [BASE_ROW],  # the key exists, unchanged by the first of the two lines
        [{**BASE_ROW, "channel": "sms"}],  # other keys on the file's days
        [flow_row()],  # one kind's days are new, the other's are not
    ],
)
@pytest.mark.parametrize("second", [BASE_ROW, {**BASE_ROW, "sends": "101"}])
def test_a_key_twice_is_refused_whatever_the_account_holds(acme, existing, second):
    if existing:
        import_rows(acme, existing)
    before = (_stats(acme), _everything(acme))
    rows = [{**BASE_ROW, "date": "2024-03-05"}, flow_row(), BASE_ROW, second]
    with pytest.raises(StatsImportError, match="line 5: repeats line 4"):
        import_rows(acme, rows)
    assert (_stats(acme), _everything(acme)) == before


def test_a_failed_import_leaves_earlier_data_untouched(acme):
    import_rows(acme, [BASE_ROW])
    before = (_stats(acme), _everything(acme))
    with pytest.raises(StatsImportError):
        import_rows(acme, [{**BASE_ROW, "sends": "500"}, {**BASE_ROW, "channel": "telegram"}])
    assert (_stats(acme), _everything(acme)) == before


def test_command_imports_and_reports(acme, tmp_path, capsys):
    path = tmp_path / "stats.csv"
    path.write_text("\ufeff" + csv_text([BASE_ROW, flow_row()]), encoding="utf-8")
    call_command("import_stats", "--account", "acme", str(path))
    assert "Imported 2 rows into acme" in capsys.readouterr().out
    call_command("import_stats", "--account", "acme", str(path))
    assert "0 new or changed, 2 unchanged" in capsys.readouterr().out


def test_command_fails_with_the_error_and_stores_nothing(acme, tmp_path):
    path = tmp_path / "stats.csv"
    path.write_text(csv_text([BASE_ROW, {**BASE_ROW, "date": "2024-13-01"}]))
    with pytest.raises(CommandError, match=r"Nothing imported\. line 3, column 'date'"):
        call_command("import_stats", "--account", "acme", str(path))
    assert _everything(acme) == (0,) * 7
    with pytest.raises(CommandError, match="No account with system name 'nope'"):
        call_command("import_stats", "--account", "nope", str(path))
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_stats", "--account", "acme", str(tmp_path / "missing.csv"))


def test_command_exits_non_zero(acme, tmp_path, capsys):
    path = tmp_path / "stats.csv"
    path.write_text(csv_text([{**BASE_ROW, "channel": "fax"}]))
    utility = ManagementUtility(["manage.py", "import_stats", "--account", "acme", str(path)])
    with pytest.raises(SystemExit) as exited:
        utility.execute()
    assert exited.value.code == 1
    assert "column 'channel', value 'fax'" in capsys.readouterr().err


def test_text_is_stored_verbatim(acme):
    # COPY's special characters (backslash, tab, newline, carriage return, and its
    # NULL marker \N as text) are escaped on the way in and stored as they are.
    odd_id = "c\\N\\1\tx\r\ny"
    odd_name = 'Sale, "big"\t\\N\r\nend'
    quoted_name = '"' + odd_name.replace('"', '""') + '"'
    import_rows(acme, [{**BASE_ROW, "source_id": f'"{odd_id}"', "source_name": quoted_name}])
    campaign = Campaign.objects.for_account(acme).get()
    assert (campaign.external_id, campaign.name) == (odd_id, odd_name)
    assert {row.campaign_id for row in CampaignStat.objects.for_account(acme)} == {campaign.pk}


@pytest.mark.django_db(transaction=True)
def test_stats_vacuum_runs_outside_transactions_only():
    from django.db import transaction

    from reporting.services.rollups import stats_vacuum

    assert stats_vacuum() is True
    with transaction.atomic():
        assert stats_vacuum() is False  # VACUUM cannot run in a transaction: skipped
