"""list_report_filters' campaign and flow lists: accent-insensitive search and paging."""

from __future__ import annotations

import pytest

from reporting.errors import ReportError
from reporting.models import Brand
from reporting.schemas import ReportFiltersParams
from reporting.selectors import report_filters
from tests.support.reports import BASE_ROW, flow_row, import_rows

NAMES = ["Été promo", "Ete final", "Winter sale", "Sommer Öffnung", "Spring sale"]


@pytest.fixture
def catalogue(acme):
    rows = [
        {**BASE_ROW, "source_id": f"c{n}", "source_name": name, "brand": "Acme Home"}
        for n, name in enumerate(NAMES)
    ]
    rows.append({**BASE_ROW, "source_id": "hidden", "source_name": "Été secret", "brand": "Other"})
    rows.append(flow_row(source_id="f1", source_name="Bienvenue à bord"))
    import_rows(acme, rows)
    return acme


def _filters(account, allowed=None, **params):
    return report_filters(
        account=account, allowed_brands=allowed, params=ReportFiltersParams(**params)
    )


def test_search_ignores_case_and_accents(catalogue):
    found = _filters(catalogue, query="ETE")
    assert [c.name for c in found.campaigns] == ["Ete final", "Été promo", "Été secret"]
    assert found.campaigns_total == 3 and found.flows == [] and found.flows_total == 0
    assert [c.name for c in _filters(catalogue, query="offnung").campaigns] == ["Sommer Öffnung"]
    assert [f.id for f in _filters(catalogue, query="a BORD").flows] == ["f1"]
    assert [c.id for c in _filters(catalogue, query="c2").campaigns] == ["c2"]  # external ids


def test_a_restricted_member_finds_only_their_brands_campaigns(catalogue):
    home = Brand.objects.for_account(catalogue).get(name="Acme Home").pk
    found = _filters(catalogue, allowed={home}, query="été")
    assert [c.name for c in found.campaigns] == ["Ete final", "Été promo"]


def test_paging_lists_every_campaign_once_in_order(catalogue):
    everything = _filters(catalogue, limit=500).campaigns
    seen, cursor = [], None
    while True:
        page = _filters(catalogue, limit=2, campaigns_cursor=cursor)
        assert page.campaigns_total == len(everything) == 6
        seen += page.campaigns
        cursor = page.campaigns_next_cursor
        if cursor is None:
            break
    assert seen == everything
    first = _filters(catalogue, limit=2)
    with pytest.raises(ReportError, match="different query"):
        _filters(catalogue, limit=2, query="e", campaigns_cursor=first.campaigns_next_cursor)
    with pytest.raises(ReportError, match="different query"):  # a campaign cursor for flows
        _filters(catalogue, limit=2, flows_cursor=first.campaigns_next_cursor)
