"""The prompts (slash commands in Claude.ai and Claude Code) and their argument completions.

Each prompt is a short template telling the assistant which tools to call with
which arguments. Its arguments are optional; their completions are the
account's own values as the request's user may see them (brands of their brand
scope, channels in use), read with ``report_filters`` like ``list_report_filters``
does. ``prompts/get`` checks the values the same way, so a prompt never names a
brand the user may not see.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import mcp_types as types
from mcp.shared.exceptions import MCPError

from maestra_mcp.mcp_catalog.principal import McpPrincipal
from permissions.brand_scope import allowed_brand_ids
from reporting.metrics import METRIC_NAMES
from reporting.models import Channel
from reporting.schemas import ReportFiltersParams
from reporting.selectors import report_filters
from reporting.selectors.rows import closest

KINDS = ("campaigns", "flows")
# What completion/complete may return at most (the protocol's cap).
MAX_COMPLETIONS = 100


_FIXED = {"metric": list(METRIC_NAMES), "kind": list(KINDS)}
# Any channel is a valid value; completions offer the channels the account uses.
_VALID = _FIXED | {"channel": list(Channel.values)}


def account_values(principal: McpPrincipal) -> dict[str, list[str]]:
    """The brands and channels this user may see in the account (synchronous ORM work)."""
    allowed = allowed_brand_ids(user=principal.user, account=principal.account)
    # Only the fixed lists are needed: one campaign and one flow is the least a page holds.
    filters = report_filters(
        account=principal.account, allowed_brands=allowed, params=ReportFiltersParams(limit=1)
    )
    return {"brand": filters.brands, "channel": filters.channels}


_ARGUMENTS = {
    "brand": "Only this brand (completions list the brands you may see).",
    "channel": "Only this channel (email, sms, mobile_push, web_push, viber, whatsapp).",
    "metric": "The metric to focus on (a metric name, e.g. revenue or open_rate).",
    "kind": "campaigns or flows.",
}


def _filters(arguments: Mapping[str, str]) -> dict:
    """The report filter arguments the prompt's brand/channel arguments stand for."""
    filters = {}
    if arguments.get("brand"):
        filters["brands"] = [arguments["brand"]]
    if arguments.get("channel"):
        filters["channels"] = [arguments["channel"]]
    return filters


def _call(tool: str, arguments: dict) -> str:
    return f"{tool} with {json.dumps(arguments, ensure_ascii=False)}"


def _scope(arguments: Mapping[str, str]) -> str:
    parts = [f"brand {arguments['brand']}" if arguments.get("brand") else ""]
    parts.append(f"the {arguments['channel']} channel" if arguments.get("channel") else "")
    shown = " and ".join(part for part in parts if part)
    return f" for {shown}" if shown else ""


_CLOSING = (
    "Quote the numbers the tools return rather than recomputing them; rates are fractions "
    "(0.25 = 25 %). State how far the data reaches (provenance.data_through) and say so when "
    "a window is partial."
)


def _weekly_review(arguments: Mapping[str, str]) -> str:
    window = {"period": "last_7_days", "compare_to": "previous_period"} | _filters(arguments)
    return f"""\
Give me a review of our marketing over the last 7 days{_scope(arguments)}, against the 7 days \
before.

Use the Maestra tools:
1. {_call("campaign_report", window | {"breakdown": "campaign", "limit": 10})}
2. {_call("flow_report", window | {"breakdown": "flow", "limit": 10})}
3. For whichever of revenue and conversion_rate moved most, \
{_call("explain_change", window | {"kind": "campaigns", "metric": "revenue"})} \
(with that metric, and kind flows if flows moved more).

Answer with the headline numbers and their change, the best and worst campaigns and flows, \
and what drove the change. {_CLOSING}"""


def _month_over_month(arguments: Mapping[str, str]) -> str:
    kind = arguments.get("kind") or "campaigns"
    metric = arguments.get("metric") or "revenue"
    report = "campaign_report" if kind == "campaigns" else "flow_report"
    window = {"period": "last_month", "compare_to": "previous_period"} | _filters(arguments)
    explain = window | {"kind": kind, "metric": metric}
    return f"""\
Compare last month with the month before for our {kind}{_scope(arguments)}, focusing on \
{metric}.

Use the Maestra tools:
1. {_call(report, window | {"breakdown": "channel", "timeline": "week"})}
2. {_call("explain_change", explain)} — the {kind[:-1]}s that drove the change.
3. {_call("explain_change", explain | {"by": "channel"})} — the same change by channel.

Answer with {metric} in both months and its change, then the main drivers up and down with \
their contributions (they add up to the change; for a rate say whether the group's own rate \
or its share of volume moved). {_CLOSING}"""


def _find_underperformers(arguments: Mapping[str, str]) -> str:
    kind = arguments.get("kind") or "campaigns"
    metric = arguments.get("metric") or "conversion_rate"
    report = "campaign_report" if kind == "campaigns" else "flow_report"
    window = {"period": "last_30_days"} | _filters(arguments)
    breakdown = "campaign" if kind == "campaigns" else "flow"
    weakest = window | {"breakdown": breakdown, "sort_by": metric, "order": "asc", "limit": 10}
    recent = window | {"kind": kind, "metric": metric, "compare_to": "previous_period"}
    return f"""\
Find our underperforming {kind}{_scope(arguments)} over the last 30 days by {metric}.

Use the Maestra tools:
1. {_call(report, window | {"breakdown": breakdown, "limit": 50})} for every {breakdown}'s \
numbers and the account-wide summary (follow breakdown.next_cursor if the answer is cut).
2. {_call(report, weakest)} for the weakest by {metric}.
3. {_call("explain_change", recent)} to see which of them pulled {metric} down recently.

Ignore {kind} with too little volume to judge (compare their delivered with the summary). \
List the underperformers with {metric} against the account average and one suggestion each. \
{_CLOSING}"""


@dataclass(frozen=True)
class McpPrompt:
    name: str
    title: str
    description: str
    arguments: tuple[str, ...]
    render: Callable[[Mapping[str, str]], str]

    @property
    def definition(self) -> types.Prompt:
        return types.Prompt(
            name=self.name,
            title=self.title,
            description=self.description,
            arguments=[
                types.PromptArgument(name=name, description=_ARGUMENTS[name], required=False)
                for name in self.arguments
            ],
        )


PROMPTS = {
    prompt.name: prompt
    for prompt in (
        McpPrompt(
            "weekly_review",
            "Weekly review",
            "Last 7 days against the 7 before: campaigns, flows and what drove the change.",
            ("brand", "channel"),
            _weekly_review,
        ),
        McpPrompt(
            "month_over_month",
            "Month over month",
            "Last month against the month before for one metric, with its drivers.",
            ("kind", "metric", "brand", "channel"),
            _month_over_month,
        ),
        McpPrompt(
            "find_underperformers",
            "Find underperformers",
            "The campaigns or flows of the last 30 days weakest on a metric, and why.",
            ("kind", "metric", "brand", "channel"),
            _find_underperformers,
        ),
    )
}


def prompt_named(name: str) -> McpPrompt:
    prompt = PROMPTS.get(name)
    if prompt is None:
        available = ", ".join(PROMPTS)
        raise MCPError(
            types.INVALID_PARAMS, f"Unknown prompt: {name}. Available prompts: {available}."
        )
    return prompt


def prompt_get(principal: McpPrincipal, name: str, arguments: Mapping[str, str]) -> str:
    """The prompt's text for these arguments, checked against what the user may use.

    An unknown argument or value is a protocol error (invalid params) naming the
    valid ones; names are matched case-insensitively and used as the account spells them.
    """
    prompt = prompt_named(name)
    unknown = sorted(set(arguments) - set(prompt.arguments))
    if unknown:
        raise MCPError(
            types.INVALID_PARAMS,
            f"Unknown argument(s) for {name}: {', '.join(unknown)}. "
            f"Its arguments: {', '.join(prompt.arguments)}.",
        )
    given = {key: value.strip() for key, value in arguments.items() if value and value.strip()}
    valid = _VALID | ({"brand": account_values(principal)["brand"]} if "brand" in given else {})
    checked = {}
    for key, value in given.items():
        by_lower = {option.lower(): option for option in valid[key]}
        if value.lower() not in by_lower:
            near = closest(value, valid[key])
            hint = f" Did you mean {' or '.join(near)}?" if near else ""
            raise MCPError(
                types.INVALID_PARAMS,
                f"Unknown {key} {value!r} for {name}.{hint} Valid values: "
                f"{', '.join(valid[key]) or '(none)'}.",
            )
        checked[key] = by_lower[value.lower()]
    return prompt.render(checked)


def complete(principal: McpPrincipal, prompt_name: str, argument: str, value: str):
    """(values, total) of ``argument`` starting with — or else containing — ``value``."""
    prompt = prompt_named(prompt_name)
    if argument not in prompt.arguments:
        return [], 0
    options = _FIXED[argument] if argument in _FIXED else account_values(principal)[argument]
    typed = value.strip().lower()
    starting = [option for option in options if option.lower().startswith(typed)]
    containing = [o for o in options if typed in o.lower() and o not in starting]
    found = starting + containing
    return found[:MAX_COMPLETIONS], len(found)
