"""The OpenAPI schema: served, valid, and covering every endpoint."""

from __future__ import annotations

import json

import jsonschema
import pytest
import yaml
from django.core.management import call_command

from tests.api.conftest import csrf_headers, membership_id

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


MCP = "/api/v1/accounts/{system_name}/mcp"
MEMBERS = "/api/v1/accounts/{system_name}/members"
MEMBER = MEMBERS + "/{membership_id}/"
REPORT = "/api/v1/accounts/{system_name}/reports/campaigns"
LOGS = "/api/v1/accounts/{system_name}/session-logs"


@pytest.mark.parametrize(
    ("username", "method", "template", "path", "body", "status"),
    [
        (None, "get", MCP, "acme/mcp", None, 403),  # not logged in
        ("owner@globex.test", "get", MCP, "acme/mcp", None, 404),  # not theirs
        ("owner@acme.test", "patch", MCP, "acme/mcp", {"mcp_enabled": False}, 403),  # CSMs only
        ("csm@maestra.test", "patch", MCP, "acme/mcp", {"mcp_enabled": "maybe"}, 400),
        ("csm@maestra.test", "patch", MCP, "acme/mcp", "not json", 400),
        ("analyst@acme.test", "get", MEMBERS, "acme/members", None, 403),
        ("owner@acme.test", "put", MEMBER + "brands", "acme/members/0/brands", {"brands": []}, 404),
        ("owner@acme.test", "put", MEMBER + "brands", "acme/members/{analyst}/brands", [], 400),
        ("owner@acme.test", "put", MEMBER + "mcp-access", "acme/members/{analyst}/mcp-access",
         {"granted": [1]}, 400),
        ("csm@maestra.test", "put", MEMBER + "mcp-access", "acme/members/{owner}/mcp-access",
         {"granted": False}, 409),  # the last Owner, without confirm
        ("owner@acme.test", "get", REPORT, "acme/reports/campaigns?limit=0", None, 400),
        ("owner@acme.test", "get", REPORT, "acme/reports/campaigns?brands=Nope", None, 400),
        ("owner@acme.test", "get", LOGS, "acme/session-logs?status=bogus", None, 400),
        ("analyst@acme.test", "get", LOGS, "acme/session-logs", None, 403),
    ],
)  # fmt: skip
def test_error_answers_are_documented_as_sent(
    api, cast, client, username, method, template, path, body, status
):
    """Each error answer's status is in the schema and its body matches what is documented
    for it (only 200s were: schemathesis, the first outside client, found every 400, 403,
    404 and 409 undocumented)."""
    schema = client.get("/api/v1/schema/", {"format": "json"}).json()
    ids = {name: membership_id(cast, f"{name}@acme.test") for name in ("owner", "analyst")}
    url = "/api/v1/accounts/" + path.format(**ids)
    user = api(username)
    if method == "get":
        response = user.get(url)
    else:
        payload = body if isinstance(body, str) else json.dumps(body)
        response = getattr(user, method)(
            url, payload, content_type="application/json", **csrf_headers(user)
        )
    assert response.status_code == status, response.content
    documented = schema["paths"][template][method]["responses"][str(status)]  # KeyError: not
    body_schema = documented["content"]["application/json"]["schema"]
    # Its refs are "#/components/schemas/…": resolvable with the components beside it.
    validator = jsonschema.Draft202012Validator({**body_schema, "components": schema["components"]})
    validator.validate(response.json())


def test_the_patch_documents_mcp_enabled_as_required_as_the_view_does(api, client):
    # drf-spectacular's default documents a PATCH body as a "Patched" copy with nothing
    # required, but the view refuses a body without mcp_enabled.
    schema = client.get("/api/v1/schema/", {"format": "json"}).json()
    body = schema["paths"][MCP]["patch"]["requestBody"]
    assert body["required"] is True
    name = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert "mcp_enabled" in schema["components"]["schemas"][name]["required"]
    csm = api("csm@maestra.test")
    response = csm.patch(
        "/api/v1/accounts/acme/mcp", "{}", content_type="application/json", **csrf_headers(csm)
    )
    assert response.status_code == 400
    assert "mcp_enabled" in response.json()


def test_the_session_log_query_is_documented_as_the_view_reads_it(api, cast, client):
    # cursor and page_size (the paginator's) were missing, tool's length limit and the
    # blank "any status" too, and the CSV was documented as the JSON page.
    from urllib.parse import parse_qs, urlsplit

    from maestra_mcp.session_logs.views import SessionLogFilterForm
    from tests.support.session_logs import make_logs

    schema = client.get("/api/v1/schema/", {"format": "json"}).json()
    operation = schema["paths"][LOGS]["get"]
    query = {p["name"]: p["schema"] for p in operation["parameters"] if p["in"] == "query"}
    make_logs(cast.acme, 3)
    owner = api("owner@acme.test")
    page = owner.get(LOGS.format(system_name="acme"), {"page_size": 1, "status": ""}).json()
    assert len(page["results"]) == 1
    assert {"page_size", "status"} | set(parse_qs(urlsplit(page["next"]).query)) <= set(query)
    assert "" in query["status"]["enum"]
    assert query["tool"]["maxLength"] == SessionLogFilterForm.base_fields["tool"].max_length
    assert operation["responses"]["200"]["content"]["text/csv"]["schema"] == {"type": "string"}
