"""The admin's static files, served by ServeStatic through the ASGI application."""

from __future__ import annotations

import warnings
from pathlib import Path

import anyio
import django.contrib.admin

from tests.support.mcp import asgi_http_client, running_app

ADMIN_CSS = Path(django.contrib.admin.__file__).parent / "static/admin/css/base.css"


def _get(path: str):
    async def go():
        async with running_app() as app, asgi_http_client(app) as http:
            return await http.get(path)

    return anyio.run(go)


def test_admin_css_is_served_under_asgi_without_a_synchronous_iterator():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        response = _get("/static/admin/css/base.css")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")
    assert response.content == ADMIN_CSS.read_bytes()
    # Django warns when an ASGI response streams a synchronous iterator (WhiteNoise's
    # file responses did), consuming it in a thread.
    assert not [w for w in caught if "synchronous iterators" in str(w.message)]
