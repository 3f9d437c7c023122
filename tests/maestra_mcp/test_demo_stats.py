"""The demo statistics: deterministic, plausible, idempotent, through the real import."""

from __future__ import annotations

from datetime import date, timedelta

from maestra_mcp.demo_stats import DEMO_PROFILES, HISTORY_DAYS, demo_csv_lines, seed_demo_stats
from reporting.models import Campaign, CampaignStat, Channel, Flow, FlowStat, Grain
from reporting.schemas import CampaignReportParams, FlowReportParams
from tests.support.reports import campaign_report_as, flow_report_as

TODAY = date(2026, 3, 2)


def test_demo_stats_are_plausible_and_seeding_again_only_tops_up(cast):
    first = seed_demo_stats(today=TODAY)
    assert first["acme"].rows > 20_000 and first["globex"].rows > 10_000
    acme, analyst = cast.acme, cast.user("analyst@acme.test")
    assert Campaign.objects.for_account(acme).count() >= 24
    assert Flow.objects.for_account(acme).count() >= 8
    stats = CampaignStat.objects.for_account(acme).filter(grain=Grain.DAY)
    span = stats.order_by("period_start").values_list("period_start", flat=True)
    assert (span.first(), span.last()) == (
        TODAY - timedelta(days=HISTORY_DAYS),
        TODAY - timedelta(days=1),
    )
    channels = set(stats.values_list("channel", flat=True)) | set(
        FlowStat.objects.for_account(acme).values_list("channel", flat=True)
    )
    assert channels == set(Channel.values)

    year = campaign_report_as(
        account=acme,
        user=analyst,
        params=CampaignReportParams(period="last_year", timeline="month", breakdown="channel"),
        today=TODAY,
    )
    summary = year.summary
    assert 0.85 < summary.delivery_rate < 1 and 0.1 < summary.open_rate < 0.8
    assert 0.001 < summary.conversion_rate < 0.05 and summary.revenue > 0
    months = {b.period_start.month: b.metrics.revenue for b in year.timeline.buckets}
    assert months[11] > months[2]  # Black Friday beats February
    sms = next(r for r in year.breakdown.rows if r.key == "sms")
    assert sms.metrics.opens is None  # SMS opens are not tracked
    flows = flow_report_as(account=acme, user=analyst, params=FlowReportParams(), today=TODAY)
    assert flows.breakdown.total_groups == DEMO_PROFILES["acme"].flows

    before = stats.count()
    assert seed_demo_stats(today=TODAY) == {"acme": None, "globex": None}
    assert stats.count() == before
    later = seed_demo_stats(today=TODAY + timedelta(days=2))
    assert later["acme"].rows > 0 and later["acme"].written == later["acme"].rows
    assert stats.filter(period_start__gte=TODAY).count() == stats.count() - before


def test_demo_lines_are_deterministic_and_the_same_whatever_the_range():
    profile = DEMO_PROFILES["acme"]
    whole = list(demo_csv_lines(profile, first_day=date(2025, 1, 1), last_day=date(2025, 1, 10)))
    again = list(demo_csv_lines(profile, first_day=date(2025, 1, 1), last_day=date(2025, 1, 10)))
    tail = list(demo_csv_lines(profile, first_day=date(2025, 1, 6), last_day=date(2025, 1, 10)))
    assert whole == again
    assert [line for line in whole[1:] if line >= "2025-01-06"] == tail[1:]
