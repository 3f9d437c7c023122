"""Tenant resolution happens in one place: every account URL goes through accounts.access."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, get_resolver

from accounts.access import ACCOUNT_ACCESS_ATTRIBUTE


def _walk(patterns, prefix="", converters=frozenset()):
    for entry in patterns:
        route = prefix + str(entry.pattern)
        names = converters | set(getattr(entry.pattern, "converters", {}))
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, route, names)
        elif isinstance(entry, URLPattern):
            yield route, names, entry.callback


def test_every_url_carrying_an_account_resolves_it_through_accounts_access():
    account_urls = {
        route: callback
        for route, names, callback in _walk(get_resolver().url_patterns)
        if "system_name" in names
    }
    # The walk must see the pages this suite knows about, or it proves nothing.
    assert {
        "accounts/<slug:system_name>/mcp/",
        "accounts/<slug:system_name>/team/",
        "accounts/<slug:system_name>/team/<int:membership_id>/mcp-access/",
    } <= set(account_urls)
    unguarded = [
        route
        for route, callback in account_urls.items()
        if getattr(callback, ACCOUNT_ACCESS_ATTRIBUTE, None) not in {"member", "owner"}
    ]
    assert unguarded == []


def test_the_walk_does_notice_an_unguarded_view():
    from django.urls import path

    def rogue(request, system_name):  # pragma: no cover - never called
        raise AssertionError

    found = list(_walk([path("x/<slug:system_name>/", rogue)]))
    assert found == [("x/<slug:system_name>/", {"system_name"}, rogue)]
    assert not hasattr(rogue, ACCOUNT_ACCESS_ATTRIBUTE)
