"""The API answers every request its OpenAPI schema allows, and many it does not, without a 5xx
and as its schema says (status codes, content types, bodies): schemathesis generates the
requests from /api/schema/ and sends them to the app through its WSGI interface."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.contrib.auth.models import User
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.specs.openapi import checks as openapi_checks

from project.wsgi import application

# Bounded so that the whole run takes seconds: a few dozen requests per operation.
EXAMPLES_PER_OPERATION = 40

CHECKS = [
    schemathesis.checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_schema_conformance,
]


# The schema as the app serves it (no database needed to build it).
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)


@pytest.fixture
def fuzz_token(asylum_pack: Any, settings: Any) -> Iterator[str]:
    # Rate limits are tested on their own (tests/test_api_rate_limits.py).
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_CLASSES": []}
    user = User.objects.create_user("fuzzer", password="not-a-real-secret")
    # The requests go through the real WSGI handler, whose end-of-request signal would close the
    # test's database connection (and its transaction); Django's test client does the same.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield str(Token.objects.create(user=user).key)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_it_never_answers_5xx_and_matches_its_schema(case: Any, fuzz_token: str) -> None:
    case.call_and_validate(headers={"Authorization": f"Token {fuzz_token}"}, checks=CHECKS)
