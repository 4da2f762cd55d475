"""Hostile input gets a 400 (API), a form error (web) or a 404, never a server error."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from cases.models import Case
from rules.engine.calendars import LAST_HOLIDAY_YEAR
from rules.engine.inputs import MAX_YEAR, MIN_YEAR
from tests.cases.personas import carla, case_a, org_a  # noqa: F401  (fixtures)

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE: dict[str, Any] = json.loads(
    (ROOT / "rules" / "packs" / "asylum-reexamination" / "api-example.json").read_text()
)

pytestmark = pytest.mark.usefixtures("asylum_pack")


def evaluate(client: APIClient, payload: Any) -> Any:
    # ensure_ascii keeps lone surrogates as \\ud800 escapes, as a hostile client sends them.
    data = json.dumps(payload)
    return client.post("/api/v1/evaluate", data=data, content_type="application/json")


@pytest.mark.parametrize("text", ["asylum-reexamination\ud800", "\udfff", "a\ud83d"])
def test_it_refuses_a_lone_surrogate_in_procedure_with_a_400(
    token_client: APIClient, text: str
) -> None:
    response = evaluate(token_client, {**EXAMPLE, "procedure": text})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "procedure"


def test_it_names_the_field_holding_a_lone_surrogate_anywhere(token_client: APIClient) -> None:
    events = [dict(EXAMPLE["events"][0], outcome="x\ud800")]
    response = evaluate(token_client, {**EXAMPLE, "events": events})
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["field"] == "events[0].outcome"
    assert "lone surrogate" in error["message"]


def test_the_accepted_years_stop_before_the_holiday_calendars_do() -> None:
    assert MIN_YEAR == 1950
    assert MAX_YEAR < LAST_HOLIDAY_YEAR


@pytest.mark.parametrize("year", [MAX_YEAR + 1, 2126, 2150, 2200])
def test_it_refuses_event_dates_past_the_calendars_with_a_400(
    token_client: APIClient, year: int
) -> None:
    events = [dict(EXAMPLE["events"][0], date=f"{year}-01-15")]
    response = evaluate(token_client, {**EXAMPLE, "events": events})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "events[0].date"


def test_it_accepts_an_event_in_the_last_accepted_year(token_client: APIClient) -> None:
    events = [dict(EXAMPLE["events"][0], date=f"{MAX_YEAR}-12-31")]
    payload = {**EXAMPLE, "events": events, "as_of": f"{MAX_YEAR}-12-31"}
    assert evaluate(token_client, payload).status_code == 200


@pytest.mark.parametrize("url", ["/feeds/%00.ics", "/alerts/ack/%00/", "/feeds/a%00b.ics"])
def test_a_nul_byte_in_a_secret_link_is_a_404(client: Client, url: str) -> None:
    assert client.get(url).status_code == 404


def test_the_pack_list_is_the_object_the_schema_documents(token_client: APIClient) -> None:
    schema = Client().get("/api/schema/?format=json").json()
    documented = schema["paths"]["/api/v1/packs"]["get"]["responses"]["200"]["content"]
    ref = documented["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert schema["components"]["schemas"][ref]["properties"]["packs"]["type"] == "array"
    assert isinstance(token_client.get("/api/v1/packs").json()["packs"], list)


def test_the_schema_lists_only_json_bodies() -> None:
    schema = Client().get("/api/schema/?format=json").json()
    body = schema["paths"]["/api/v1/evaluate"]["post"]["requestBody"]["content"]
    assert list(body) == ["application/json"]


def test_a_chunked_body_without_a_length_is_refused_with_a_411(token_client: APIClient) -> None:
    response = token_client.generic(
        "POST",
        "/api/v1/evaluate",
        data="",
        content_type="application/json",
        HTTP_TRANSFER_ENCODING="chunked",
    )
    assert response.status_code == 411
    assert "Content-Length" in response.json()["errors"][0]["message"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_gunicorn_refuses_a_chunked_body_with_a_411_too(tmp_path: Path) -> None:
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "project.wsgi:application",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={"PATH": "/usr/bin:/bin", "DJANGO_DEBUG": "true", "HOME": str(tmp_path)},
    )
    try:
        body = json.dumps(EXAMPLE).encode()
        request = (
            b"POST /api/v1/evaluate HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
            b"Connection: close\r\n\r\n" + f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"
        )
        for _ in range(100):
            try:
                connection = socket.create_connection(("127.0.0.1", port), timeout=5)
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("gunicorn did not start")
        with connection:
            connection.sendall(request)
            answer = b""
            while chunk := connection.recv(65536):
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 411")
        assert b"Content-Length" in answer
    finally:
        server.terminate()
        server.wait(timeout=10)


HOSTILE = ["\x00", "a\x00b", "\ufffd", "x" * 5000, "2126-03-02", "-1", "9" * 30]


@pytest.mark.usefixtures("case_a")
@pytest.mark.parametrize("value", HOSTILE)
def test_search_boxes_and_filters_refuse_hostile_text_without_a_500(value: str) -> None:
    case = Case.objects.get(reference="A-001")
    client = Client(raise_request_exception=False)
    client.force_login(case.assigned_to)
    query = dict.fromkeys(("q", "caseworker", "procedure", "department", "status", "page"), value)
    for url in ("/", "/cases/", "/export/deadlines.csv", "/alerts/", "/calendar/"):
        assert client.get(url, query).status_code == 200, url


@pytest.mark.usefixtures("case_a")
@pytest.mark.parametrize("value", HOSTILE)
def test_case_and_event_forms_refuse_hostile_text_with_a_form_error(value: str) -> None:
    case = Case.objects.get(reference="A-001")
    client = Client(raise_request_exception=False)
    client.force_login(case.assigned_to)
    fields = (
        "applicant_name",
        "reference",
        "procedure",
        "department",
        "previous_reexaminations",
        "preferred_language",
        "phone",
        "email",
        "assigned_to",
        "state",
    )
    for url, names in (
        ("/cases/new/", fields),
        (f"/cases/{case.pk}/edit/", fields),
        (f"/cases/{case.pk}/events/new/", ("type", "date", "outcome", "note")),
        (f"/cases/{case.pk}/elements/new/", ("date", "known_on", "description")),
    ):
        for name in names:
            response = client.post(url, {name: value})
            assert response.status_code == 200, (url, name)


def test_the_api_pack_rules_refuse_hostile_parameters_without_a_500(
    token_client: APIClient,
) -> None:
    token_client.raise_request_exception = False
    for value in HOSTILE:
        for query in ({"on": value}, {"version": value}):
            response = token_client.get("/api/v1/packs/asylum-reexamination", query)
            assert response.status_code in (200, 400, 404), (value, query)
