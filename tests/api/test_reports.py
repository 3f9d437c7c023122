"""/api/v1/accounts/<system_name>/reports/*: the MCP tools' reports, same numbers and scope."""

from __future__ import annotations

import pytest

from maestra_mcp.api.reports import MESSAGE_MEMBERS_ONLY, query_arguments
from reporting.schemas import CampaignReportParams, FlowReportParams
from reporting.selectors import campaign_report, flow_report
from tests.api.conftest import membership_id
from tests.support.reports import flow_row, import_rows

pytestmark = pytest.mark.django_db

CAMPAIGNS = "/api/v1/accounts/{}/reports/campaigns"
FLOWS = "/api/v1/accounts/{}/reports/flows"
WINDOW = {"date_from": "2024-03-04", "date_to": "2024-03-04"}


def test_the_campaign_report_is_the_selectors_answer(api, cast, brands):
    response = api("owner@acme.test").get(
        CAMPAIGNS.format("acme"), {**WINDOW, "breakdown": "brand"}
    )
    assert response.status_code == 200, response.content
    expected = campaign_report(
        account=cast.acme,
        allowed_brands=None,
        params=CampaignReportParams(**WINDOW, breakdown="brand"),
    )
    assert response.json() == expected.model_dump(mode="json")
    assert response.json()["summary"]["sends"] == 500


def test_the_flow_report_too(api, cast):
    import_rows(cast.acme, [flow_row()])
    response = api("analyst@acme.test").get(FLOWS.format("acme"), WINDOW)
    assert response.status_code == 200
    expected = flow_report(
        account=cast.acme, allowed_brands=None, params=FlowReportParams(**WINDOW)
    )
    assert response.json() == expected.model_dump(mode="json")


def test_a_limit_pages_the_breakdown(api, cast, brands):
    response = api("owner@acme.test").get(
        CAMPAIGNS.format("acme"), {**WINDOW, "breakdown": "brand", "limit": "1"}
    )
    assert response.status_code == 200, response.content
    breakdown = response.json()["breakdown"]
    assert breakdown["limit"] == 1 and len(breakdown["rows"]) == 1
    following = api("owner@acme.test").get(
        CAMPAIGNS.format("acme"),
        {**WINDOW, "breakdown": "brand", "limit": "1", "cursor": breakdown["next_cursor"]},
    )
    assert following.status_code == 200, following.content
    assert following.json()["breakdown"]["rows"][0]["key"] != breakdown["rows"][0]["key"]


def test_a_csm_who_is_no_member_is_refused_rather_than_shown_zeros(api, cast, brands):
    response = api("csm@maestra.test").get(CAMPAIGNS.format("acme"), WINDOW)
    assert response.status_code == 403
    assert response.json() == {"detail": MESSAGE_MEMBERS_ONLY}
    assert api("csm@maestra.test").get(FLOWS.format("acme"), WINDOW).status_code == 403
    # The same CSM sees the account's MCP settings (a CSM's page).
    assert api("csm@maestra.test").get("/api/v1/accounts/acme/mcp").status_code == 200


def test_repeated_keys_are_lists(api, cast, brands):
    response = api("owner@acme.test").get(
        CAMPAIGNS.format("acme"), {**WINDOW, "channels": ["email", "sms"], "brands": ["Acme Sport"]}
    )
    assert response.status_code == 200
    assert response.json()["summary"]["sends"] == 400


def test_a_restricted_member_sees_their_brands_only(api, cast, brands):
    from permissions.brand_scope import brand_restriction_set

    brand_restriction_set(
        account=cast.acme,
        user=cast.user("marketer@acme.test"),
        brands=[brands["Acme Home"]],
        acting_user=cast.user("owner@acme.test"),
    )
    response = api("marketer@acme.test").get(CAMPAIGNS.format("acme"), WINDOW)
    assert response.json()["summary"]["sends"] == 100
    assert membership_id(cast, "marketer@acme.test")  # still a member


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"period": "fortnight"}, "period"),
        ({"limit": "0"}, "limit"),
        ({"limit": "true"}, "limit"),  # a number only, as in the tools
        ({"limit": "5.0"}, "limit"),
        ({"colour": "blue"}, "colour"),  # unknown parameters are refused, as by the tools
    ],
)
def test_bad_parameters_are_400_with_the_parameter_named(api, cast, query, message):
    response = api("owner@acme.test").get(CAMPAIGNS.format("acme"), query)
    assert response.status_code == 400
    assert message in {error["parameter"] for error in response.json()["errors"]}


def test_a_report_error_is_400_with_its_message(api, cast, brands):
    response = api("owner@acme.test").get(CAMPAIGNS.format("acme"), {**WINDOW, "brands": "Nope"})
    assert response.status_code == 400
    assert "Nope" in response.json()["detail"]


@pytest.mark.parametrize(
    "username", ["outsider@example.test", "owner@globex.test", "staff@maestra.test"]
)
def test_other_accounts_reports_are_404(api, brands, username):
    assert api(username).get(CAMPAIGNS.format("acme"), WINDOW).status_code == 404
    assert api(username).get(FLOWS.format("acme"), WINDOW).status_code == 404


def test_query_arguments_keep_scalars_single_and_lists_whole(rf):
    from rest_framework.request import Request

    request = Request(rf.get("/", {"channels": ["email", "sms"], "limit": "5", "format": "json"}))
    assert query_arguments(CampaignReportParams, request) == {
        "channels": ["email", "sms"],
        "limit": 5,
    }
