"""Query templates (reporting.prepared): the ORM's SQL compiled once per structure.

Every report test runs through templates too; these pin down the mechanism: the
rows equal Django's own, one compilation per structure whatever the account, the
account always bound, and a key that misses part of the structure refused
rather than answered.
"""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal

import pytest
from django.db.models import Q, Sum, Value

from reporting import prepared
from reporting.models import Brand, CampaignDailyStat
from reporting.scoping import UnscopedQueryError
from tests.support.reports import BASE_ROW, import_rows

_keys = itertools.count()


def new_key() -> tuple:
    """A key no other test (or report) uses: templates live for the whole process."""
    return ("test_prepared", next(_keys))


MAY = [date(2024, 5, 1), date(2024, 5, 31)]


def fetch(key, build, account, values) -> list[dict]:
    return prepared.fetch(key, build, account_id=account.pk, values=values, using="default")


def channel_totals(account_id: int, values) -> object:
    """Sends and revenue per channel between two dates, for the brands listed after them."""
    first, last, *brands = values
    return (
        CampaignDailyStat.objects.shape()
        .values("channel")
        .annotate(sends=Sum("sends"), revenue=Sum("revenue"))
        .for_account(account_id, Q(date__range=(first, last)), Q(campaign__brand_id__in=brands))
        .order_by("channel")
    )


def django_rows(account, values) -> list[dict]:
    """What Django itself returns for the same query (scoped the ordinary way)."""
    first, last, *brands = values
    return list(
        CampaignDailyStat.objects.for_account(account)
        .filter(date__range=(first, last), campaign__brand_id__in=brands)
        .values("channel")
        .annotate(sends=Sum("sends"), revenue=Sum("revenue"))
        .order_by("channel")
    )


@pytest.fixture
def stats(acme, globex):
    rows = [
        {**BASE_ROW, "date": "2024-05-01", "sends": "100", "revenue": "10.25"},
        {**BASE_ROW, "date": "2024-05-02", "channel": "sms", "opens": "", "revenue": "3.10"},
        {**BASE_ROW, "date": "2024-05-03", "source_id": "c2", "brand": "Acme Outdoor"},
    ]
    import_rows(acme, rows)
    import_rows(
        globex,
        [
            {
                **BASE_ROW,
                "date": "2024-05-01",
                "sends": "7",
                "delivered": "7",
                "bounces": "0",
                "brand": "Globex",
            }
        ],
    )
    return {
        account.system_name: sorted(Brand.objects.for_account(account).values_list("pk", flat=True))
        for account in (acme, globex)
    }


def test_rows_equal_djangos_for_every_call_of_a_template(stats, acme, globex):
    key = new_key()
    acme_brands, globex_brands = stats["acme"], stats["globex"]
    calls = [
        (acme, [*MAY, *acme_brands[:1]]),
        (acme, [date(2024, 5, 2), date(2024, 5, 3), *acme_brands[1:]]),
        (globex, [date(2024, 1, 1), date(2024, 12, 31), *globex_brands[:1]]),
        (acme, [date(2023, 1, 1), date(2023, 1, 2), *acme_brands[:1]]),  # no rows
    ]
    for account, values in calls:
        found = fetch(key, channel_totals, account, values)
        assert found == django_rows(account, values)
    assert [row["sends"] for row in found] == []
    # Typed as Django types them (on SQLite through Django's converters): Decimal revenue.
    first = fetch(key, channel_totals, acme, calls[0][1])
    assert [(row["channel"], row["sends"], row["revenue"]) for row in first] == [
        ("email", 100, Decimal("10.25")),
        ("sms", 100, Decimal("3.10")),
    ]
    assert all(isinstance(row["revenue"], Decimal) for row in first)


def test_a_structure_is_compiled_once_and_reused_for_other_accounts(stats, acme, globex):
    key, builds = new_key(), []

    def build(account_id, values):
        builds.append(account_id)
        return channel_totals(account_id, values)

    cached = prepared.templates_cached()
    acme_rows = fetch(key, build, acme, [*MAY, stats["acme"][0]])
    # Once with placeholders (the template), once with the values (checked against it).
    assert len(builds) == 2 and builds[1] == acme.pk and builds[0] != acme.pk
    assert prepared.templates_cached() == cached + 1
    globex_rows = fetch(key, build, globex, [*MAY, stats["globex"][0]])
    assert len(builds) == 2  # not built, not compiled: bound and run
    assert [row["sends"] for row in acme_rows] == [100, 100]
    assert [row["sends"] for row in globex_rows] == [7]
    # The same template with acme's id but globex's brand: nothing leaks across.
    assert fetch(key, build, acme, [*MAY, stats["globex"][0]]) == []


def test_a_template_that_does_not_bind_the_account_is_refused(stats, acme, globex):
    def fixed_account(account_id, values):
        return channel_totals(acme.pk, values)  # ignores the account it is given

    cached = prepared.templates_cached()
    with pytest.raises(UnscopedQueryError, match="bind the account id"):
        fetch(new_key(), fixed_account, globex, [*MAY, stats["acme"][0]])
    assert prepared.templates_cached() == cached


def test_sql_that_depends_on_more_than_the_key_is_refused(stats, acme):
    def structure_from_values(account_id, values):
        query = channel_totals(account_id, values)
        # Only real dates pass this test: placeholders would give another query.
        return query.filter(channel="email") if values[0].year > 2000 else query

    cached = prepared.templates_cached()
    with pytest.raises(prepared.TemplateMismatchError, match="depends on more than its key"):
        fetch(new_key(), structure_from_values, acme, [*MAY, stats["acme"][0]])
    assert prepared.templates_cached() == cached


def test_a_query_that_can_match_nothing_is_not_run(stats, acme, django_assert_num_queries):
    key = new_key()
    fetch(key, channel_totals, acme, MAY)  # no brand listed: IN ()
    with django_assert_num_queries(0):
        found = fetch(key, channel_totals, acme, MAY)
    assert found == [] == django_rows(acme, MAY)


def test_a_query_that_can_match_nothing_runs_when_asked(stats, acme, django_assert_num_queries):
    """elide_empty=False: the database answers over no rows (a summary's zero row)."""

    def total(account_id, values):
        return (
            CampaignDailyStat.objects.shape()
            .values(total=Value(True))
            .annotate(sends=Sum("sends"))
            .for_account(account_id, Q(date__range=values[:2]), Q(campaign__brand_id__in=[]))
        )

    key = new_key()
    prepared.fetch(key, total, account_id=acme.pk, values=MAY, using="default", elide_empty=False)
    with django_assert_num_queries(1):
        found = prepared.fetch(
            key, total, account_id=acme.pk, values=MAY, using="default", elide_empty=False
        )
    assert found == [{"total": True, "sends": None}]


def test_values_are_ids_and_dates_only(acme):
    for value in ("email", 1.5, True):
        with pytest.raises(TypeError, match="ids and dates"):
            fetch(new_key(), channel_totals, acme, [*MAY, value])
