"""The admin's static files, served by ServeStatic under uvicorn."""

from __future__ import annotations

import warnings
from pathlib import Path

import django.contrib.admin
import httpx2

from tests.support.mcp import uvicorn_server

ADMIN_CSS = Path(django.contrib.admin.__file__).parent / "static/admin/css/base.css"


def test_admin_css_is_served_under_asgi_without_a_synchronous_iterator():
    with warnings.catch_warnings(record=True) as caught, uvicorn_server() as origin:
        warnings.simplefilter("always")
        response = httpx2.get(f"{origin}/static/admin/css/base.css", timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")
    assert response.content == ADMIN_CSS.read_bytes()
    # Django warns when an ASGI response streams a synchronous iterator (WhiteNoise's
    # file responses did), consuming it in a thread.
    assert not [w for w in caught if "synchronous iterators" in str(w.message)]
