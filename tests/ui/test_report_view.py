"""The report view (ui://maestra/report) in Debian's chromium, hosted by ext-apps' own AppBridge.

The host page (tests/ui/report_host.js, built with the view) loads the committed view
HTML, byte for byte what the server serves, into a sandboxed iframe under the MCP Apps
default CSP, completes ``ui/initialize`` and sends tool results computed from a seeded
account the way the server presents them. Every request other than the host page
itself is aborted and recorded; console errors are collected from both frames.
Screenshots go to the session's screenshot folder (printed at the start of the run);
the README's come from there.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from maestra_mcp.demo_stats import DEMO_PROFILES, demo_csv_lines
from maestra_mcp.mcp_catalog.tools import TOOLS
from maestra_mcp.mcp_catalog.tools.base import MAX_RESULT_CHARS
from reporting.schemas import CampaignReportParams, FlowReportParams
from reporting.schemas_explain import ExplainChangeParams
from reporting.services.stats_import import stats_import
from tests.support.reports import campaign_report_as, explain_change_as, flow_report_as

ROOT = Path(__file__).resolve().parents[2]
VIEW_HTML = ROOT / "maestra_mcp" / "mcp_catalog" / "apps" / "report.html"
HOST_JS = Path(__file__).with_name("report_host.js")
HOST_URL = "http://host.test/"
# The MCP Apps default CSP for a view that declares no domains (what a host applies).
VIEW_CSP = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "img-src data:; font-src data:; media-src data:; connect-src 'none'"
)
TODAY = date(2026, 3, 2)
ANALYST = "analyst@acme.test"
MAX_HEIGHT = 500


# --- Data: the demo account's statistics, reports as the tools return them -------------


@pytest.fixture
def acme_stats(transactional_db, cast):
    """Half a year of the demo statistics for acme (EUR), ending yesterday."""
    lines = demo_csv_lines(
        DEMO_PROFILES["acme"], first_day=TODAY - timedelta(days=185), last_day=TODAY
    )
    stats_import(account=cast.acme, lines=lines)
    return cast


def tool_result(result) -> dict:
    """The CallToolResult the server sends for ``result`` (see mcp_server/server.py)."""
    structured = result.model_dump(mode="json")
    text = json.dumps(structured, ensure_ascii=False, separators=(",", ":"))
    return {"content": [{"type": "text", "text": text}], "structuredContent": structured}


def report_result(selector, cast, params) -> dict:
    """A report tool's answer: the selector's report fitted to the size budget as the tool does."""
    report = selector(
        account=cast.acme,
        user=cast.user(ANALYST),
        params=params,
        today=TODAY,
        max_chars=MAX_RESULT_CHARS,
    )
    return tool_result(report)


def campaign_90_days(cast) -> dict:
    params = CampaignReportParams(
        period="last_90_days", timeline="day", compare_to="previous_period", limit=10
    )
    return report_result(campaign_report_as, cast, params)


def flows_by_flow(cast) -> dict:
    params = FlowReportParams(period="last_90_days", timeline="week", breakdown="flow")
    return report_result(flow_report_as, cast, params)


def explanation(cast, **params) -> dict:
    """explain_change's answer (reporting/selectors/drivers.py) for the analyst."""
    result = explain_change_as(
        account=cast.acme,
        user=cast.user(ANALYST),
        params=ExplainChangeParams(**params),
        today=TODAY,
    )
    return tool_result(result)


# --- The host page ---------------------------------------------------------------------


class ViewHost:
    """A page hosting the view in an iframe through AppBridge; records what leaves it."""

    def __init__(self, browser, *, width: int, theme: str, tool: str):
        self.width = width
        self.context = browser.new_context(viewport={"width": width + 40, "height": 800})
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.errors.append(f"pageerror: {error}"))
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.route("**/*", self._route)
        self.page.goto(HOST_URL)
        definition = next(t for t in TOOLS if t.name == tool).definition
        context = {
            "theme": theme,
            "locale": "en-US",
            "platform": "web",
            "displayMode": "inline",
            "containerDimensions": {"width": width, "maxHeight": MAX_HEIGHT},
            "toolInfo": {
                "id": 1,
                "tool": definition.model_dump(mode="json", by_alias=True, exclude_none=True),
            },
        }
        view = VIEW_HTML.read_text(encoding="utf-8")
        self.page.evaluate(
            "([html, width, hostContext]) => window.reportHost.start({html, width, hostContext})",
            [view, width, context],
        )
        self.frame = self.page.frame_locator("iframe")
        self.view = next(frame for frame in self.page.frames if frame != self.page.main_frame)

    def _console(self, message):
        if message.type in ("error", "warning"):
            self.errors.append(f"{message.type}: {message.text}")

    def _route(self, route):
        if route.request.url == HOST_URL:
            host_js = HOST_JS.read_text(encoding="utf-8")
            page = f"<!doctype html><meta charset=utf-8><body><script>{host_js}</script>"
            route.fulfill(
                body=page, content_type="text/html", headers={"Content-Security-Policy": VIEW_CSP}
            )
        else:
            route.abort()

    def send(self, result: dict):
        self.page.evaluate("(result) => window.reportHost.sendToolResult(result)", result)
        self.frame.locator("#app[data-ready=true], .status.error").first.wait_for()

    def evaluate(self, script: str, arg=None):
        return self.view.evaluate(script, arg)

    def assert_clean(self):
        """Nothing but the host page was requested; no error or warning in either frame."""
        assert self.requests == [HOST_URL]
        assert self.errors == []

    def screenshot(self, path: Path) -> Path:
        self.page.locator("iframe").screenshot(path=str(path))
        return path


@pytest.fixture
def view_host(browser):
    hosts: list[ViewHost] = []

    def open_view(*, width: int = 760, theme: str = "light", tool: str = "campaign_report"):
        host = ViewHost(browser, width=width, theme=theme, tool=tool)
        hosts.append(host)
        return host

    yield open_view
    for host in hosts:
        host.context.close()


def keys(host) -> list[str]:
    return host.frame.locator("#breakdown tbody tr").evaluate_all(
        "rows => rows.map(row => row.dataset.key)"
    )


def js_signed(value: float, digits: int) -> str:
    """Intl.NumberFormat with maximumFractionDigits=digits and signDisplay "exceptZero"."""
    text = f"{round(value, digits):+.{digits}f}".rstrip("0").rstrip(".")
    return "0" if float(text) == 0 else text


def as_number(value) -> float | None:
    return None if value is None else float(Decimal(str(value)))


# --- Tests -----------------------------------------------------------------------------


def test_campaign_report_charts_every_day_and_shows_totals_changes_and_breakdown(
    acme_stats, view_host, shoot
):
    result = campaign_90_days(acme_stats)
    report = result["structuredContent"]
    buckets = report["timeline"]["buckets"]
    assert len(buckets) == 90 and report["comparison"] is not None

    host = view_host()
    host.send(result)
    frame = host.frame

    assert frame.locator("h1").inner_text() == "Campaign report"
    # Dec 2 2025 - Mar 1 2026, and the 90 days before.
    assert frame.locator("#subtitle").inner_text() == (
        "Dec 2, 2025 \N{EN DASH} Mar 1, 2026 · 90 days · vs previous period "
        "(Sep 3 \N{EN DASH} Dec 1, 2025)"
    )
    revenue = Decimal(report["summary"]["revenue"])
    tile = frame.locator(".kpi[data-metric=revenue]")
    assert tile.locator(".kpi-value").get_attribute("title") == f"€{round(revenue):,}"
    relative = report["comparison"]["change"]["revenue"]["relative"]
    arrow = "▲" if relative > 0 else "▼"
    assert tile.locator(".kpi-change").inner_text() == f"{arrow} {js_signed(relative * 100, 1)}%"
    open_rate = report["summary"]["open_rate"]
    tile = frame.locator(".kpi[data-metric=open_rate]")
    assert tile.locator(".kpi-value").inner_text() == f"{open_rate:.1%}"
    # Rates change in percentage points.
    points = report["comparison"]["change"]["open_rate"]["absolute"] * 100
    assert tile.locator(".kpi-change").get_attribute("data-change") == f"{js_signed(points, 2)} pp"

    # One bar per day with the day's revenue; switching the metric redraws.
    chart = frame.locator("#chart")
    assert chart.get_attribute("data-points") == "90"
    assert json.loads(chart.get_attribute("data-values")) == [
        as_number(b["metrics"]["revenue"]) for b in buckets
    ]
    assert frame.locator("#chart canvas").count() == 1
    rows = frame.locator("#timeline-table tbody tr")
    assert rows.count() == 90
    assert rows.first.get_attribute("data-start") == buckets[0]["period_start"]
    frame.locator("#metric").select_option("open_rate")
    assert chart.get_attribute("data-metric") == "open_rate"
    assert json.loads(chart.get_attribute("data-values")) == [
        b["metrics"]["open_rate"] for b in buckets
    ]
    shoot(host.page, "timeline")

    # The breakdown: the same rows, in the server's order, then sorted by the user.
    frame.locator("#tab-breakdown").click()
    rows = report["breakdown"]["rows"]
    assert keys(host) == [row["key"] for row in rows]
    names = frame.locator("#breakdown tbody th").all_inner_texts()
    assert names == [row["name"] for row in rows]
    first = frame.locator("#breakdown tbody tr").first
    assert (
        first.locator("td[data-column=revenue]").get_attribute("data-value")
        == (rows[0]["metrics"]["revenue"])
    )
    frame.locator("th[data-column=orders] button").click()
    by_orders = sorted(rows, key=lambda row: (-row["metrics"]["orders"], row["name"]))
    assert keys(host) == [row["key"] for row in by_orders]
    assert frame.locator("th[data-column=orders]").get_attribute("aria-sort") == "descending"
    frame.locator("th[data-column=orders] button").click()
    ascending = sorted(rows, key=lambda row: (row["metrics"]["orders"], row["name"]))
    assert keys(host) == [row["key"] for row in ascending]
    frame.locator("th[data-column=name] button").click()
    assert names_shown(host) == sorted(names, key=str.casefold)
    shoot(host.page, "breakdown")
    host.assert_clean()


def names_shown(host) -> list[str]:
    return host.frame.locator("#breakdown tbody th").all_inner_texts()


def test_flow_report_by_flow_lists_every_flow_and_sorts_by_name(acme_stats, view_host, shoot):
    result = flows_by_flow(acme_stats)
    report = result["structuredContent"]
    rows = report["breakdown"]["rows"]
    assert report["breakdown"]["by"] == "flow" and len(rows) == DEMO_PROFILES["acme"].flows

    host = view_host(tool="flow_report")
    host.send(result)
    frame = host.frame
    assert frame.locator("h1").inner_text() == "Flow report"
    assert frame.locator("#chart").get_attribute("data-points") == str(
        len(report["timeline"]["buckets"])
    )
    frame.locator("#tab-breakdown").click()
    assert frame.locator("#tab-breakdown").inner_text() == "By flow"
    assert keys(host) == [row["key"] for row in rows]
    assert frame.locator(".note").inner_text() == f"{len(rows)} flows"
    frame.locator("th[data-column=name] button").click()
    assert names_shown(host) == sorted((row["name"] for row in rows), key=str.casefold)
    assert frame.locator("th[data-column=name]").get_attribute("aria-sort") == "ascending"
    frame.locator("th[data-column=name] button").click()
    assert names_shown(host) == sorted((row["name"] for row in rows), key=str.casefold)[::-1]
    shoot(host.page, "flows")
    host.assert_clean()


def driver_rows(explained: dict) -> list[dict]:
    """What the view should list: drivers_up, drivers_down, then the others row if any."""
    others = explained["others"]
    extra = [others | {"group": "others"}] if others and others["groups"] else []
    return (
        [d | {"group": "up"} for d in explained["drivers_up"]]
        + [d | {"group": "down"} for d in explained["drivers_down"]]
        + extra
    )


def shown_drivers(host) -> list[dict]:
    """Each driver row of the view: its data, flag and bars (value and CSS box)."""
    return host.frame.locator("#drivers li.driver").evaluate_all(
        """items => items.map(li => ({
          group: li.dataset.group,
          contribution: Number(li.dataset.contribution),
          positive: li.classList.contains('positive'),
          negative: li.classList.contains('negative'),
          label: li.querySelector('.driver-label').textContent,
          flag: li.querySelector('.flag')?.textContent ?? null,
          bars: [...li.querySelectorAll('.driver-bar')].map(b => ({
            kind: b.classList[1], value: Number(b.dataset.value),
            left: b.style.left, right: b.style.right, width: parseFloat(b.style.width),
          })),
        }))"""
    )


def assert_bars_match(host, explained: dict) -> list[dict]:
    """One row per driver in the result's order, signed and flagged as the result says."""
    expected = driver_rows(explained)
    shown = shown_drivers(host)
    assert [row["group"] for row in shown] == [row["group"] for row in expected]
    names = [row["name"] for row in expected if row["group"] != "others"]
    assert [row["label"] for row in shown if row["group"] != "others"] == names
    assert [row["contribution"] for row in shown] == [
        float(row["contribution"]) for row in expected
    ]
    assert all(float(row["contribution"]) > 0 for row in explained["drivers_up"])
    assert all(float(row["contribution"]) < 0 for row in explained["drivers_down"])
    assert [row["positive"] for row in shown] == [
        float(row["contribution"]) >= 0 for row in expected
    ]
    assert [row["negative"] for row in shown] == [
        float(row["contribution"]) < 0 for row in expected
    ]
    assert [row["flag"] for row in shown] == [
        row["status"] if row.get("status") in ("new", "gone") else None for row in expected
    ]
    # (The browser keeps 4 decimals of a style's percentages.)
    # Every bar starts at the zero line (50 %) on its sign's side; the longest reaches an end.
    for row in shown:
        for bar in row["bars"]:
            anchor = bar["left"] if bar["value"] > 0 else bar["right"]
            assert float(anchor.rstrip("%")) >= 50, row
    assert max(sum(b["width"] for b in row["bars"]) for row in shown) == pytest.approx(50, abs=0.01)
    return shown


def test_a_revenue_explanation_draws_the_real_drivers_with_new_and_gone_flags(
    acme_stats, view_host, shoot
):
    # February against January: January's one-time campaigns are gone, February's new.
    result = explanation(
        acme_stats,
        kind="campaigns",
        metric="revenue",
        period="last_month",
        compare_date_from=date(2026, 1, 1),
        compare_date_to=date(2026, 1, 31),
        limit=5,
    )
    explained = result["structuredContent"]
    assert explained["method"] == "difference" and explained["explained"] is True
    assert explained["drivers_up"] and explained["drivers_down"] and explained["others"]
    assert explained["new_groups"] and explained["gone_groups"]

    host = view_host(tool="explain_change")
    host.send(result)
    frame = host.frame
    assert frame.locator("h1").inner_text() == "Explain a change"
    assert frame.locator("#subtitle").inner_text() == (
        "Feb 1 \N{EN DASH} Feb 28, 2026 · 28 days · vs Jan 1 \N{EN DASH} Jan 31, 2026"
    )
    current = frame.locator(".kpi[data-kpi=current]")
    assert current.locator(".kpi-label").inner_text() == "Revenue"
    assert current.get_attribute("data-value") == explained["current"]
    assert current.locator(".kpi-value").get_attribute("title") == (
        f"€{round(Decimal(explained['current'])):,}"
    )
    assert (
        frame.locator(".kpi[data-kpi=previous]").get_attribute("data-value")
        == (explained["previous"])
    )
    change = frame.locator(".kpi[data-kpi=change]")
    absolute = Decimal(explained["change"]["absolute"])
    assert change.get_attribute("data-value") == explained["change"]["absolute"]
    assert change.locator(".kpi-value").inner_text()[0] == (
        "+" if absolute > 0 else "\N{MINUS SIGN}"
    )
    relative = explained["change"]["relative"]
    assert change.locator(".kpi-change").inner_text() == (
        f"{'▲' if relative > 0 else '▼'} {js_signed(relative * 100, 1)}%"
    )

    shown = assert_bars_match(host, explained)
    # Sums: one bar per row, as long as its share of the largest contribution.
    largest = max(abs(row["contribution"]) for row in shown)
    for row in shown:
        [bar] = row["bars"]
        assert bar["kind"] == "total" and bar["value"] == row["contribution"]
        assert bar["width"] == pytest.approx(abs(row["contribution"]) / largest * 50, abs=0.01)
    assert shown[-1]["group"] == "others"
    others = explained["others"]["groups"]
    assert frame.locator(".driver.others .driver-label").inner_text() == f"{others} others"
    assert frame.locator("#legend").count() == 0  # no rate/mix split for a sum
    assert frame.locator(".note").inner_text() == (
        f"{explained['new_groups']} new · {explained['gone_groups']} gone · "
        f"{explained['total_groups']} campaigns in all"
    )
    assert frame.locator("#chart").count() == 0  # no timeline, no chart
    shoot(host.page, "revenue")
    host.assert_clean()


def test_a_rate_explanation_splits_each_bar_into_rate_and_mix_effects(acme_stats, view_host, shoot):
    result = explanation(
        acme_stats, kind="campaigns", metric="open_rate", period="last_30_days", limit=6
    )
    explained = result["structuredContent"]
    assert explained["method"] == "shift_share" and explained["explained"] is True
    assert explained["drivers_up"] and explained["drivers_down"]

    host = view_host(width=390, tool="explain_change")
    host.send(result)
    frame = host.frame
    points = explained["change"]["absolute"] * 100
    assert frame.locator(".kpi[data-kpi=change] .kpi-value").inner_text() == (
        f"{js_signed(points, 2)} pp"
    )
    assert frame.locator("#legend").inner_text().split() == ["own", "rate", "mix"]
    shown = assert_bars_match(host, explained)
    for row, drawn in zip(driver_rows(explained), shown, strict=True):
        effects = {"rate": row["rate_effect"], "mix": row["mix_effect"]}
        assert {bar["kind"]: bar["value"] for bar in drawn["bars"]} == {
            kind: value for kind, value in effects.items() if value
        }
        assert sum(effects.values()) == pytest.approx(row["contribution"])
    shoot(host.page, "open-rate")
    host.assert_clean()


def test_a_refused_call_shows_the_servers_message(acme_stats, view_host):
    host = view_host()
    message = "Unknown brand 'Nope'. Valid brands: Acme Home, Acme Kids, Acme Outdoor."
    host.send({"content": [{"type": "text", "text": message}], "isError": True})
    assert host.frame.locator(".status.error").inner_text() == message
    host.assert_clean()


THEMES = {"light": (0.8, 1.0), "dark": (0.0, 0.2)}  # relative luminance of the background


def luminance(css_color: str) -> float:
    red, green, blue = (int(part) / 255 for part in css_color[4:-1].split(",")[:3])
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def test_the_view_fits_500_px_at_390_and_760_wide_in_light_and_dark(
    acme_stats, view_host, screenshot_dir
):
    result = campaign_90_days(acme_stats)
    shots = []
    for width in (390, 760):
        for theme, (low, high) in THEMES.items():
            host = view_host(width=width, theme=theme)
            host.send(result)
            for tab in ("timeline", "breakdown"):
                host.frame.locator(f"#tab-{tab}").click()
                size = host.evaluate(
                    """() => ({
                      height: document.documentElement.scrollHeight,
                      width: document.documentElement.scrollWidth,
                      clipped: [...document.querySelectorAll('.kpi-value, .tab, h1, #metric')]
                        .filter(e => e.scrollWidth > e.clientWidth).length,
                      background: getComputedStyle(document.body).backgroundColor,
                    })"""
                )
                label = f"{width} px {theme} {tab}"
                assert size["height"] <= MAX_HEIGHT, label
                assert size["width"] <= width, label  # wide tables scroll inside their box
                assert size["clipped"] == 0, label
                assert low <= luminance(size["background"]) <= high, label
                reported = host.page.evaluate("window.reportHost.events.sizes.at(-1)")
                assert reported["height"] <= MAX_HEIGHT, label
                name = f"report-view-{theme}-{width}-{tab}.png"
                shots.append(host.screenshot(screenshot_dir / name))
            host.assert_clean()
    assert len(shots) == 8


def test_an_explanation_fits_500_px_at_390_and_760_wide_in_light_and_dark(
    acme_stats, view_host, screenshot_dir
):
    # Ten drivers each way and the others row: more than 500 px, so the list scrolls.
    result = explanation(acme_stats, kind="campaigns", metric="open_rate", period="last_90_days")
    explained = result["structuredContent"]
    rows = len(driver_rows(explained))
    assert rows > 12
    for width in (390, 760):
        for theme, (low, high) in THEMES.items():
            host = view_host(width=width, theme=theme, tool="explain_change")
            host.send(result)
            assert host.frame.locator("#drivers li.driver").count() == rows
            size = host.evaluate(
                """() => ({
                  height: document.documentElement.scrollHeight,
                  width: document.documentElement.scrollWidth,
                  clipped: [...document.querySelectorAll('.kpi-value, h1, .driver-value')]
                    .filter(e => e.scrollWidth > e.clientWidth).length,
                  scrolls: document.getElementById('drivers').scrollHeight
                    > document.getElementById('drivers').clientHeight,
                  background: getComputedStyle(document.body).backgroundColor,
                })"""
            )
            label = f"{width} px {theme}"
            assert size["height"] <= MAX_HEIGHT, label
            assert size["width"] <= width, label
            assert size["clipped"] == 0, label
            assert size["scrolls"], label
            assert low <= luminance(size["background"]) <= high, label
            reported = host.page.evaluate("window.reportHost.events.sizes.at(-1)")
            assert reported["height"] <= MAX_HEIGHT, label
            host.screenshot(screenshot_dir / f"explain-view-{theme}-{width}.png")
            host.assert_clean()
