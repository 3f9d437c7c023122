"""Answers identical to the recorded ones: the reporting core held to a golden file.

``golden/reports.json`` holds the answers of the implementation the reporting
rebuild replaced (query templates over a view of daily rows and rollups) to
every case of :func:`tests.support.golden.cases` over the fixed dataset of
:func:`tests.support.golden.dataset_rows`. Each case's answer must match field by
field: integers, dates, names and money strings exactly, rates within 1e-12.

Record again only on purpose (a changed answer is a changed product):
``GOLDEN_RECORD=1 pytest tests/reporting/test_golden.py``.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest

from permissions.brand_scope import allowed_brand_ids, brand_restriction_set
from reporting.models import Brand
from reporting.schemas import CampaignReportParams, FlowReportParams
from reporting.selectors import campaign_report, flow_report, report_filters
from tests.support import golden
from tests.support.reports import import_rows

GOLDEN = Path(__file__).parent / "golden" / "reports.json"


@pytest.fixture
def golden_data(cast):
    """The cast's ``acme`` with the golden dataset, an unrestricted and an Alpha-only analyst."""
    account = cast.acme
    import_rows(account, golden.dataset_rows())
    users = {"all": cast.user("analyst@acme.test"), "alpha": cast.user("marketer@acme.test")}
    alpha = Brand.objects.for_account(account).get(name="Alpha")
    brand_restriction_set(
        account=account,
        user=users["alpha"],
        brands=[alpha],
        acting_user=cast.user("owner@acme.test"),
    )
    return account, users


def answer(case: dict, account, users) -> dict:
    allowed = allowed_brand_ids(user=users[case["user"]], account=account)
    if case["tool"] == "campaign":
        params = CampaignReportParams(**case["params"])
        result = campaign_report(
            account=account, allowed_brands=allowed, params=params, today=golden.TODAY
        )
    else:
        params = FlowReportParams(**case["params"])
        result = flow_report(
            account=account, allowed_brands=allowed, params=params, today=golden.TODAY
        )
    return result.model_dump(mode="json")


def filters_answer(account, users) -> dict:
    return {
        name: report_filters(
            account=account, allowed_brands=allowed_brand_ids(user=user, account=account)
        ).model_dump(mode="json")
        for name, user in users.items()
    }


# Fields added to the answers after the recording (issue 18), and only those: every
# other field must still match. (answer key -> keys added inside it; "" = the answer.)
ADDED_FIELDS = {"": {"provenance"}, "breakdown": {"next_cursor", "others"}}
ADDED_FILTER_FIELDS = {
    "campaigns",
    "campaigns_total",
    "campaigns_next_cursor",
    "flows_total",
    "flows_next_cursor",
    "query",
}


def without_added_fields(answer: dict) -> dict:
    answer = {k: v for k, v in answer.items() if k not in ADDED_FIELDS[""]}
    for key, added in ADDED_FIELDS.items():
        if key and isinstance(answer.get(key), dict):
            answer[key] = {k: v for k, v in answer[key].items() if k not in added}
    return answer


def assert_same(found, expected, path: str = "$") -> None:
    """Equal field by field; floats within 1e-12 (relative), everything else exactly."""
    if isinstance(expected, float) or isinstance(found, float):
        assert isinstance(found, int | float) and isinstance(expected, int | float), path
        assert math.isclose(found, expected, rel_tol=1e-12, abs_tol=1e-15), (path, found, expected)
    elif isinstance(expected, dict):
        assert isinstance(found, dict) and found.keys() == expected.keys(), (path, found, expected)
        for key in expected:
            assert_same(found[key], expected[key], f"{path}.{key}")
    elif isinstance(expected, list):
        assert isinstance(found, list) and len(found) == len(expected), (path, found, expected)
        for index, (a, b) in enumerate(zip(found, expected, strict=True)):
            assert_same(a, b, f"{path}[{index}]")
    else:
        assert found == expected, (path, found, expected)


def test_golden_answers(golden_data):
    account, users = golden_data
    found = {
        "cases": {
            case["id"]: {**case, "answer": answer(case, account, users)} for case in golden.cases()
        },
        "filters": filters_answer(account, users),
    }
    if os.environ.get("GOLDEN_RECORD") == "1":
        GOLDEN.write_text(json.dumps(found, indent=1, sort_keys=True) + "\n")
        pytest.skip(f"recorded {len(found['cases'])} cases to {GOLDEN}")
    expected = json.loads(GOLDEN.read_text())
    assert found["cases"].keys() == expected["cases"].keys()
    for case_id, case in expected["cases"].items():
        assert found["cases"][case_id]["params"] == case["params"], case_id
        assert_same(
            without_added_fields(found["cases"][case_id]["answer"]),
            case["answer"],
            f"case {case_id}",
        )
    for user, filters in found["filters"].items():
        filters = {k: v for k, v in filters.items() if k not in ADDED_FILTER_FIELDS}
        assert_same(filters, expected["filters"][user], f"filters.{user}")


def test_golden_file_is_broad():
    """The recorded cases cover every tool, breakdown, timeline, comparison and user."""
    recorded = json.loads(GOLDEN.read_text())["cases"].values()
    params = [case["params"] for case in recorded]
    assert len(params) >= 150
    assert {p.get("breakdown") for p in params} >= {
        "campaign",
        "folder",
        "channel",
        "brand",
        "flow",
        "none",
    }
    assert {p.get("timeline") for p in params} >= {"day", "week", "month"}
    assert {p.get("compare_to") for p in params} >= {"previous_period", "previous_year"}
    assert {case["user"] for case in recorded} == {"all", "alpha"}
    non_empty = [c for c in recorded if c["answer"]["summary"]["sends"] > 0]
    assert len(non_empty) >= 0.8 * len(params) - 20  # the data covers most windows
