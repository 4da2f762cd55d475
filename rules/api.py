"""POST /api/v1/evaluate and the rule-pack read endpoints (docs/api.md).

The body is read and parsed here rather than by DRF's parsers so that every malformed request,
including one that is not JSON, too large or nested too deeply, gets the contract's 400 shape.
"""

from __future__ import annotations

import json
import re
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponseBase
from django.utils import translation
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework.exceptions import Throttled
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView, exception_handler

from . import api_schema
from .engine.in_force import rules_in_force
from .engine.inputs import InputError, parse_date
from .models import PackVersion, RulePack
from .packstore import definition
from .services import PackUnavailable, evaluate_request

MAX_BODY_BYTES = 1_000_000
SLUG = re.compile(r"[-a-zA-Z0-9_]{1,63}")

# Answers every endpoint may give, whatever its own: no credentials, too many requests.
COMMON_RESPONSES = {401: api_schema.Errors, 403: api_schema.Errors, 429: api_schema.Errors}


def error_response(errors: list[dict[str, str]], code: int = 400) -> Response:
    return Response({"errors": errors}, status=code)


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF errors in the contract's shape: {"errors": [{"field": ..., "message": ...}]}."""
    response = exception_handler(exc, context)
    if response is None:
        return None
    detail = response.data.get("detail") if isinstance(response.data, dict) else None
    message = str(detail) if detail else "request refused"
    if isinstance(exc, Throttled):
        seconds = getattr(exc, "wait", None)
        wait = f"; retry in {int(seconds) + 1} s" if seconds is not None else ""
        message = f"rate limit exceeded for this API token{wait}"
    response.data = {"errors": [{"field": "", "message": message}]}
    return response


class EnglishAPIView(APIView):
    """The API speaks English: error messages (400, 401, 403, 404, 405, 429...) whatever the
    request's Accept-Language or the site's language; only an evaluation's texts follow the
    `"language"` of its body (README, "The API")."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        with translation.override("en"):
            response = super().dispatch(request, *args, **kwargs)
        data = getattr(response, "data", None)
        language = data.get("language") if isinstance(data, dict) else None
        response.headers["Content-Language"] = language if isinstance(language, str) else "en"
        return response


class EvaluateView(EnglishAPIView):
    @extend_schema(
        operation_id="evaluate",
        summary="Evaluate a case",
        description="Deadlines, statuses, competent authority, admissibility pre-check, right to "
        "remain and warnings for a case's facts, each naming the rule version and legal basis "
        "behind it. Nothing is stored.",
        request=api_schema.EvaluateRequest,
        responses={
            200: api_schema.EvaluateResponse,
            400: api_schema.Errors,
            411: api_schema.Errors,
            503: api_schema.Errors,
            **COMMON_RESPONSES,
        },
        examples=[
            OpenApiExample(
                "A case in Meurthe-et-Moselle", value=api_schema.EXAMPLE, request_only=True
            )
        ],
    )
    def post(self, request: Request) -> Response:
        length = request.META.get("CONTENT_LENGTH") or "0"
        if not (length.isascii() and length.isdigit()) or int(length) > MAX_BODY_BYTES:
            return error_response([{"field": "", "message": "request body larger than 1 MB"}])
        try:
            raw = request.body
        except RequestDataTooBig:
            return error_response([{"field": "", "message": "request body larger than 1 MB"}])
        if len(raw) > MAX_BODY_BYTES:
            return error_response([{"field": "", "message": "request body larger than 1 MB"}])
        try:
            payload = json.loads(raw)
        except (ValueError, RecursionError):
            return error_response([{"field": "", "message": "not valid JSON"}])
        try:
            return Response(evaluate_request(payload, cached=True))
        except InputError as error:
            return error_response(error.errors)
        except PackUnavailable as error:
            return error_response([{"field": "procedure", "message": str(error)}], 503)


class PackListView(EnglishAPIView):
    @extend_schema(
        operation_id="packs_list",
        summary="Rule packs",
        description="Every rule pack, with its published version and all its versions.",
        responses={200: api_schema.PackList, **COMMON_RESPONSES},
    )
    def get(self, request: Request) -> Response:
        packs = []
        versions = PackVersion.objects.select_related("pack").order_by("pack__key", "-number")
        by_pack: dict[int, list[PackVersion]] = {}
        for version in versions:
            by_pack.setdefault(version.pack_id, []).append(version)
        for pack in RulePack.objects.all():
            published = [
                v for v in by_pack.get(pack.pk, []) if v.status == PackVersion.Status.PUBLISHED
            ]
            current = published[0] if published else None
            packs.append(
                {
                    "key": pack.key,
                    "name": current.name if current else pack.name,
                    "version": current.number if current else None,
                    "verified_on": current.verified_on.isoformat() if current else None,
                    "reviewed_until": (
                        current.reviewed_until.isoformat()
                        if current and current.reviewed_until
                        else None
                    ),
                    "versions": [
                        {"version": v.number, "status": v.status} for v in by_pack.get(pack.pk, [])
                    ],
                }
            )
        return Response({"packs": packs})


class PackDetailView(EnglishAPIView):
    @extend_schema(
        operation_id="pack_rules",
        summary="The rules of a pack in force on a day",
        parameters=[
            OpenApiParameter("on", OpenApiTypes.DATE, description="Default: today"),
            OpenApiParameter(
                "version", OpenApiTypes.INT, description="Pack version (default: the published one)"
            ),
        ],
        responses={
            200: OpenApiTypes.OBJECT,
            400: api_schema.Errors,
            404: api_schema.Errors,
            409: api_schema.Errors,
            **COMMON_RESPONSES,
        },
    )
    def get(self, request: Request, key: str) -> Response:
        from .services import today

        # Any text reaches the view, so that an impossible key gets the API's JSON 404 too.
        if not SLUG.fullmatch(key):
            raise Http404
        errors = []
        day = today()
        if "on" in request.query_params:
            try:
                day = parse_date(request.query_params["on"])
            except ValueError as exc:
                errors.append({"field": "on", "message": str(exc)})
        versions = PackVersion.objects.filter(pack__key=key)
        raw_version = request.query_params.get("version")
        if raw_version is not None:
            if not (raw_version.isascii() and raw_version.isdigit()):
                errors.append({"field": "version", "message": "expected a whole number"})
            else:
                versions = versions.filter(number=int(raw_version))
        else:
            versions = versions.filter(status=PackVersion.Status.PUBLISHED)
        if errors:
            return error_response(errors)
        version = versions.order_by("-number").first()
        if version is None:
            raise Http404
        try:
            pack = definition(version)
        except Exception as error:  # an invalid draft still shows why
            return error_response([{"field": "version", "message": str(error)}], 409)
        return Response({**rules_in_force(pack, day), "status": version.status})
