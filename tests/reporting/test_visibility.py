"""A brand-restricted member sees only what their brands use: goals, folders, flows.

Through every door: the values ``report_filters`` lists, the filters the reports
accept, and the valid values an error names.
"""

from __future__ import annotations

from datetime import date

import pytest

from permissions.brand_scope import brand_restriction_set
from reporting.errors import ReportError
from reporting.models import Brand
from reporting.schemas import NO_FOLDER, CampaignReportParams, FlowReportParams
from tests.support.reports import (
    BASE_ROW,
    campaign_report_as,
    flow_report_as,
    flow_row,
    import_rows,
    report_filters_as,
)

TODAY = date(2024, 3, 10)
HOME, OUTDOOR = "Acme Home", "Acme Outdoor"
ROWS = [
    {**BASE_ROW, "source_id": "c1", "brand": HOME, "folder": "Promotions", "goal": "Sales"},
    {**BASE_ROW, "source_id": "c2", "brand": HOME, "folder": "", "goal": "Loyalty"},
    {
        **BASE_ROW,
        "source_id": "c3",
        "source_name": "Tent launch",
        "brand": OUTDOOR,
        "folder": "Outdoor secrets",
        "goal": "Outdoor launch",
    },
    # A goal both brands use stays visible to either.
    {**BASE_ROW, "source_id": "c4", "brand": OUTDOOR, "folder": "Shared", "goal": "Sales"},
    {**BASE_ROW, "source_id": "c5", "brand": HOME, "folder": "Shared", "goal": "Sales"},
    flow_row(source_id="f1", source_name="Welcome", brand=HOME, goal="Retention"),
    flow_row(source_id="f2", source_name="Gear care tips", brand=OUTDOOR, goal="Outdoor upsell"),
]


def _expected(rows: list[dict], brands: set[str]) -> dict[str, list[str]]:
    """What a member of ``brands`` may see, computed from the imported rows alone."""
    mine = [row for row in rows if row["brand"] in brands]
    return {
        "goals": sorted({row["goal"] for row in mine}),
        "folders": sorted(
            {row["folder"] for row in mine if row["kind"] == "campaign" and row["folder"]}
        ),
        "flows": sorted(row["source_id"] for row in mine if row["kind"] == "flow"),
    }


@pytest.fixture
def restricted(acme, cast):
    """analyst@acme.test limited to Acme Home."""
    import_rows(acme, ROWS)
    analyst = cast.user("analyst@acme.test")
    home = Brand.objects.for_account(acme).get(name=HOME)
    brand_restriction_set(
        account=acme, user=analyst, brands=[home], acting_user=cast.user("owner@acme.test")
    )
    return analyst


def _seen(account, user) -> dict[str, list[str]]:
    filters = report_filters_as(account=account, user=user)
    return {
        "goals": sorted(filters.goals),
        "folders": sorted(name for name in filters.campaign_folders if name != NO_FOLDER),
        "flows": sorted(flow.id for flow in filters.flows),
    }


def test_filters_list_only_what_the_members_brands_use(acme, cast, restricted):
    assert _seen(acme, restricted) == _expected(ROWS, {HOME})
    assert report_filters_as(account=acme, user=restricted).brands == [HOME]
    # An unrestricted member sees everything.
    assert _seen(acme, cast.user("owner@acme.test")) == _expected(ROWS, {HOME, OUTDOOR})
    # Not one name used only by the other brand appears anywhere in the answer.
    listing = report_filters_as(account=acme, user=restricted).model_dump_json()
    hidden = {"Outdoor launch", "Outdoor upsell", "Outdoor secrets", "Gear care tips", "f2"}
    assert not {name for name in hidden if name in listing}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"goals": ["Outdoor launch"]},
            "Unknown goals: 'Outdoor launch'. Valid goals: "
            + ", ".join(_expected(ROWS, {HOME})["goals"])
            + ".",
        ),
        (
            {"folders": ["outdoor secrets"]},
            "Unknown folders: 'outdoor secrets'. Valid folders: Promotions, Shared.",
        ),
    ],
)
def test_campaign_filters_refuse_hidden_names_naming_only_visible_ones(
    acme, restricted, params, message
):
    with pytest.raises(ReportError) as raised:
        campaign_report_as(
            account=acme, user=restricted, params=CampaignReportParams(**params), today=TODAY
        )
    assert raised.value.message == message


def test_flow_filter_refuses_a_hidden_flow_naming_only_visible_ones(acme, restricted):
    for hidden in ("f2", "Gear care tips"):
        with pytest.raises(ReportError) as raised:
            flow_report_as(
                account=acme, user=restricted, params=FlowReportParams(flows=[hidden]), today=TODAY
            )
        assert raised.value.message == f"Unknown flows: {hidden!r}. Valid flows: Welcome (id f1)."


def test_visible_names_still_filter(acme, restricted, cast):
    """A shared goal filters the member's rows only; the owner's report covers both brands."""
    params = CampaignReportParams(goals=["sales"], period="last_30_days", breakdown="campaign")
    mine = campaign_report_as(account=acme, user=restricted, params=params, today=TODAY)
    everyone = campaign_report_as(
        account=acme, user=cast.user("owner@acme.test"), params=params, today=TODAY
    )
    assert sorted(row.key for row in mine.breakdown.rows) == ["c1", "c5"]
    assert sorted(row.key for row in everyone.breakdown.rows) == ["c1", "c4", "c5"]
