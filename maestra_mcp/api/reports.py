"""The campaign and flow reports: the MCP tools' selectors and schemas, over HTTP.

Query parameters are the tools' arguments (list arguments repeat the key:
``?channels=email&channels=sms``), validated by the same strict pydantic models;
answers are the same report models, with the member's brand scope, so the
platform's dashboards and the assistant show the same numbers.
"""

from __future__ import annotations

import types
from typing import Union, get_args, get_origin

from django.core.exceptions import PermissionDenied
from drf_spectacular.utils import OpenApiParameter, extend_schema
from pydantic import BaseModel, ValidationError
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from maestra_mcp.api.base import ERRORS, AccountAPIView
from permissions.brand_scope import allowed_brand_ids
from reporting.errors import ReportError
from reporting.schemas import CampaignReport, CampaignReportParams, FlowReport, FlowReportParams
from reporting.selectors import campaign_report, flow_report


def _is_list(annotation) -> bool:
    """``list[X]`` or ``list[X] | None``."""
    if get_origin(annotation) in (Union, types.UnionType):
        return any(_is_list(arg) for arg in get_args(annotation))
    return get_origin(annotation) is list


def query_arguments(params: type[BaseModel], request: Request) -> dict:
    """The query string as the params model's arguments: lists from repeated keys, and
    whole numbers as ints for int fields (the models are strict, as JSON is: they take
    no number as text, and a query string is all text)."""
    arguments = {}
    for name in request.query_params:
        if name == "format":  # DRF's own renderer switch
            continue
        field = params.model_fields.get(name)
        values = request.query_params.getlist(name)
        value = values if field is not None and _is_list(field.annotation) else values[-1]
        if field is not None and field.annotation is int and value.isascii() and value.isdigit():
            value = int(value)
        arguments[name] = value
    return arguments


def query_parameters(params: type[BaseModel]) -> list[OpenApiParameter]:
    """OpenAPI query parameters from the params model's JSON Schema."""
    schema = params.model_json_schema()
    parameters = []
    for name, prop in schema["properties"].items():
        options = [option for option in prop.get("anyOf", [prop]) if option.get("type") != "null"]
        # An array schema as is: a query array repeats its key (form style, exploded).
        field_schema = {k: v for k, v in options[0].items() if k != "title"}
        parameters.append(
            OpenApiParameter(
                name,
                type=field_schema,
                location=OpenApiParameter.QUERY,
                description=prop.get("description", ""),
            )
        )
    return parameters


class ParameterErrorSerializer(serializers.Serializer):
    parameter = serializers.CharField()
    message = serializers.CharField()


class ReportErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    errors = ParameterErrorSerializer(
        many=True, required=False, help_text="Each invalid parameter (absent for a report error)."
    )


MESSAGE_MEMBERS_ONLY = (
    "Reports are for the account's members: they cover the brands a member may see, and a "
    "CSM who is not a member has none (their answer would be all zeros)."
)


def _answer(view: AccountAPIView, request: Request, params, selector) -> Response:
    if view.access.membership is None:  # a CSM of the account, not a member of it
        raise PermissionDenied(MESSAGE_MEMBERS_ONLY)
    try:
        arguments = params.model_validate(query_arguments(params, request))
    except ValidationError as error:
        errors = [
            {"parameter": ".".join(str(p) for p in e["loc"]), "message": e["msg"]}
            for e in error.errors()
        ]
        return Response({"detail": "Invalid parameters.", "errors": errors}, status=400)
    account = view.access.account
    allowed = allowed_brand_ids(user=request.user, account=account)
    try:
        report = selector(account=account, allowed_brands=allowed, params=arguments)
    except ReportError as error:
        return Response({"detail": error.message}, status=status.HTTP_400_BAD_REQUEST)
    return Response(report.model_dump(mode="json"))


class CampaignReportView(AccountAPIView):
    """Campaign performance, as the campaign_report tool answers it."""

    @extend_schema(
        parameters=query_parameters(CampaignReportParams),
        responses={200: CampaignReport, 400: ReportErrorSerializer, **ERRORS},
    )
    def get(self, request: Request, system_name: str) -> Response:
        return _answer(self, request, CampaignReportParams, campaign_report)


class FlowReportView(AccountAPIView):
    """Flow performance, as the flow_report tool answers it."""

    @extend_schema(
        parameters=query_parameters(FlowReportParams),
        responses={200: FlowReport, 400: ReportErrorSerializer, **ERRORS},
    )
    def get(self, request: Request, system_name: str) -> Response:
        return _answer(self, request, FlowReportParams, flow_report)
