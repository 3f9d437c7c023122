"""The OpenAPI schema: served, valid, and covering every endpoint."""

from __future__ import annotations

import pytest
import yaml
from django.core.management import call_command

pytestmark = pytest.mark.django_db

ENDPOINTS = {
    "/api/v1/accounts/{system_name}/mcp": {"get", "patch"},
    "/api/v1/accounts/{system_name}/members": {"get"},
    "/api/v1/accounts/{system_name}/members/{membership_id}/mcp-access": {"put"},
    "/api/v1/accounts/{system_name}/members/{membership_id}/brands": {"put"},
    "/api/v1/accounts/{system_name}/session-logs": {"get"},
    "/api/v1/accounts/{system_name}/reports/campaigns": {"get"},
    "/api/v1/accounts/{system_name}/reports/flows": {"get"},
}


def test_the_schema_is_served_and_lists_every_endpoint(client):
    response = client.get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.1")
    paths = {path: set(ops) - {"parameters"} for path, ops in schema["paths"].items()}
    assert paths == ENDPOINTS
    report = schema["paths"]["/api/v1/accounts/{system_name}/reports/campaigns"]["get"]
    names = {parameter["name"] for parameter in report["parameters"]}
    assert {"period", "channels", "breakdown", "compare_to", "system_name"} <= names
    assert "CampaignReport" in schema["components"]["schemas"]


def test_the_schema_validates_without_warnings(tmp_path):
    path = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(path))
    assert yaml.safe_load(path.read_text())["info"]["title"] == "Maestra MCP platform API"
