"""POST /api/v1/evaluate refuses malformed input with the contract's 400 (docs/api.md).

Every error response has exactly the shape {"errors": [{"field": str, "message": str}, ...]},
and every 400 names the field path at fault (e.g. `events[1].date`). Never a 500 for bad input.
"""

from __future__ import annotations

import collections
import copy
import datetime as dt
import json
import random
import secrets
import string
import time
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.http import HttpResponse
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from rules.models import PackVersion

URL = "/api/v1/evaluate"
PACK_DIR = Path(__file__).resolve().parents[2] / "rules" / "packs" / "asylum-reexamination"
EXAMPLE: dict[str, Any] = json.loads((PACK_DIR / "api-example.json").read_text(encoding="utf-8"))
PACK: dict[str, Any] = json.loads((PACK_DIR / "pack.json").read_text(encoding="utf-8"))

pytestmark = pytest.mark.usefixtures("asylum_pack")


def body(**changes: Any) -> dict[str, Any]:
    """The api-example request with some top-level fields replaced (None: removed)."""
    payload = copy.deepcopy(EXAMPLE)
    for name, value in changes.items():
        if value is None:
            payload.pop(name, None)
        else:
            payload[name] = value
    return payload


def post(client: Client, payload: Any) -> Any:
    """POST a payload: bytes and str are sent as they are, anything else as JSON."""
    data = payload if isinstance(payload, bytes | str) else json.dumps(payload)
    return client.post(URL, data=data, content_type="application/json")


def error_list(response: HttpResponse, status: int = 400) -> list[dict[str, str]]:
    """The errors of a refusal, after checking the status and the exact response shape."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/json")
    data = json.loads(response.content)
    assert isinstance(data, dict)
    assert set(data) == {"errors"}
    errors = data["errors"]
    assert isinstance(errors, list)
    assert errors
    for item in errors:
        assert isinstance(item, dict)
        assert set(item) == {"field", "message"}
        assert isinstance(item["field"], str)
        assert isinstance(item["message"], str)
        assert item["message"].strip()
    return errors


def fields_of(response: HttpResponse) -> list[str]:
    return [item["field"] for item in error_list(response)]


def message_for(response: HttpResponse, field: str) -> str:
    messages = [item["message"] for item in error_list(response) if item["field"] == field]
    assert messages, f"no error for {field!r} in {response.content!r}"
    return messages[0]


def two_events(**second: Any) -> list[dict[str, Any]]:
    """A valid first event and a second event with the given fields."""
    return [{"type": "prefecture_presentation", "date": "2026-04-02"}, second]


# --- authentication -------------------------------------------------------------------------


def test_the_example_request_with_a_token_is_a_200(token_client: APIClient) -> None:
    response = post(token_client, EXAMPLE)
    assert response.status_code == 200, response.content
    assert response.json()["procedure"] == "asylum-reexamination"


def test_a_request_without_credentials_is_a_401_in_the_error_shape(api_client: APIClient) -> None:
    response = post(api_client, EXAMPLE)
    error_list(response, 401)
    assert response["WWW-Authenticate"].startswith("Token")


def test_a_request_with_a_wrong_token_is_a_401(user: User, api_client: APIClient) -> None:
    Token.objects.create(user=user)
    api_client.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
    error_list(post(api_client, EXAMPLE), 401)


def test_a_token_header_without_a_key_is_a_401(api_client: APIClient) -> None:
    api_client.credentials(HTTP_AUTHORIZATION="Token")
    error_list(post(api_client, EXAMPLE), 401)


def test_the_token_of_an_inactive_user_is_a_401(user: User, api_client: APIClient) -> None:
    token = Token.objects.create(user=user)
    user.is_active = False
    user.save()
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    error_list(post(api_client, EXAMPLE), 401)


def test_a_logged_in_session_can_evaluate(user: User) -> None:
    client = Client()
    client.force_login(user)
    response = post(client, EXAMPLE)
    assert response.status_code == 200, response.content
    assert response.json()["as_of"] == "2026-05-25"


def test_a_logged_in_session_without_a_csrf_token_is_refused_in_the_error_shape(
    user: User,
) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    errors = error_list(post(client, EXAMPLE), 403)
    assert "CSRF" in errors[0]["message"]


def test_a_logged_in_session_with_a_csrf_token_can_evaluate(user: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    secret = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32))
    client.cookies["csrftoken"] = secret
    response = client.post(
        URL,
        data=json.dumps(EXAMPLE),
        content_type="application/json",
        headers={"X-CSRFToken": secret},
    )
    assert response.status_code == 200, response.content


def test_an_anonymous_session_is_a_401() -> None:
    error_list(post(Client(enforce_csrf_checks=True), EXAMPLE), 401)


# --- the body as a whole --------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b"{",
        b"",
        b"{'procedure': 1}",
        b"\xff\xfe{}",
        b'{"procedure": "asylum-reexamination",}',
    ],
)
def test_a_body_that_is_not_json_is_a_400(token_client: APIClient, raw: bytes) -> None:
    errors = error_list(post(token_client, raw))
    assert [e["field"] for e in errors] == [""]


@pytest.mark.parametrize(
    "raw",
    [b"[]", b'[{"procedure": "asylum-reexamination"}]', b'"text"', b"54", b"1.5", b"null", b"true"],
)
def test_json_that_is_not_an_object_is_a_400(token_client: APIClient, raw: bytes) -> None:
    errors = error_list(post(token_client, raw))
    assert [e["field"] for e in errors] == [""]
    assert "object" in errors[0]["message"]


def test_a_body_over_one_megabyte_of_valid_json_is_a_400(token_client: APIClient) -> None:
    payload = body()
    payload["new_elements"][0]["description"] = ""
    padding = 1_000_001 - len(json.dumps(payload).encode())
    payload["new_elements"][0]["description"] = "x" * padding
    raw = json.dumps(payload).encode()
    assert len(raw) == 1_000_001
    errors = error_list(post(token_client, raw))
    assert errors[0]["field"] == ""
    assert "1 MB" in errors[0]["message"]


def test_a_body_of_several_megabytes_is_a_400(token_client: APIClient) -> None:
    raw = json.dumps(body(notes="y" * 5_000_000)).encode()
    error_list(post(token_client, raw))


def test_a_body_just_under_one_megabyte_is_judged_on_its_fields(token_client: APIClient) -> None:
    payload = body()
    payload["new_elements"][0]["description"] = "x" * 999_000
    assert message_for(post(token_client, payload), "new_elements[0].description")


@pytest.mark.parametrize(("opening", "closing"), [("[", "]"), ('{"a":', "}")])
def test_deeply_nested_json_is_a_400_not_a_crash(
    token_client: APIClient, opening: str, closing: str
) -> None:
    raw = opening * 100_000 + "1" + closing * 100_000
    error_list(post(token_client, raw))
    # The process is still fine afterwards.
    assert post(token_client, EXAMPLE).status_code == 200


def test_deeply_nested_json_inside_a_field_is_a_400(token_client: APIClient) -> None:
    raw = json.dumps(body(events=[])).replace(
        '"events": []', '"events": ' + "[" * 100_000 + "]" * 100_000
    )
    error_list(post(token_client, raw))


def test_moderately_nested_json_in_a_field_is_a_400_naming_the_field(
    token_client: APIClient,
) -> None:
    nested: Any = []
    for _ in range(500):
        nested = [nested]
    assert "events[0]" in fields_of(post(token_client, body(events=[nested])))


# --- procedure ------------------------------------------------------------------------------


def test_an_unknown_procedure_is_a_400_naming_the_procedure(token_client: APIClient) -> None:
    response = post(token_client, body(procedure="asylum-first-application"))
    assert fields_of(response) == ["procedure"]
    assert "asylum-first-application" in message_for(response, "procedure")


def test_a_missing_procedure_is_a_400_naming_the_procedure(token_client: APIClient) -> None:
    assert fields_of(post(token_client, body(procedure=None))) == ["procedure"]


@pytest.mark.parametrize("value", [54, ["asylum-reexamination"], {"key": "x"}, True, 1.5, ""])
def test_a_procedure_that_is_not_a_known_string_is_a_400(
    token_client: APIClient, value: Any
) -> None:
    assert fields_of(post(token_client, body(procedure=value))) == ["procedure"]


def test_a_procedure_with_a_nul_character_is_a_400(token_client: APIClient) -> None:
    assert fields_of(post(token_client, body(procedure="asylum\u0000reexamination"))) == [
        "procedure"
    ]


def test_a_draft_only_procedure_is_an_unknown_procedure(
    token_client: APIClient, asylum_pack: PackVersion
) -> None:
    PackVersion.objects.filter(pk=asylum_pack.pk).update(status=PackVersion.Status.DRAFT)
    assert fields_of(post(token_client, EXAMPLE)) == ["procedure"]


# --- department -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "20",
        "96",
        "2C",
        "975",
        "00",
        "0",
        "540",
        "5 4",
        "",
        "   ",
        "2AB",
        "A2",
        54,
        2.5,
        ["54"],
        True,
    ],
)
def test_a_bad_department_is_a_400_naming_the_department(
    token_client: APIClient, value: Any
) -> None:
    response = post(token_client, body(department=value))
    assert fields_of(response) == ["department"]


def test_a_missing_department_is_a_400_saying_it_is_required(token_client: APIClient) -> None:
    response = post(token_client, body(department=None))
    assert fields_of(response) == ["department"]
    assert "required" in message_for(response, "department")


@pytest.mark.parametrize(
    ("value", "normalised"),
    [("2a", "2A"), ("2B", "2B"), ("1", "01"), ("01", "01"), (" 54 ", "54"), ("971", "971")],
)
def test_a_department_is_accepted_in_its_usual_spellings(
    token_client: APIClient, value: str, normalised: str
) -> None:
    response = post(token_client, body(department=value))
    assert response.status_code == 200, response.content
    assert response.json()["department"] == normalised


# --- dates ----------------------------------------------------------------------------------

BAD_DATES = [
    "2026-02-30",  # impossible day
    "2026-13-01",  # impossible month
    "2026-00-10",
    "26-05-2026",  # French order
    "25/05/2026",
    20260525,  # a number
    "20260525",  # ISO basic format, which date.fromisoformat accepts
    "2026-5-1",  # not zero-padded
    "2026-05-25T00:00:00",
    "2026-W22-1",  # ISO week date
    " 2026-05-25",
    "10000-01-01",  # year 10000
    "1800-01-01",  # year 1800
    "0001-01-01",
    "9999-12-31",
    "",
    True,
    ["2026-05-25"],
    {"date": "2026-05-25"},
]


@pytest.mark.parametrize("value", BAD_DATES, ids=repr)
def test_a_bad_or_impossible_event_date_is_a_400_naming_events_1_date(
    token_client: APIClient, value: Any
) -> None:
    response = post(token_client, body(events=two_events(type="registration", date=value)))
    assert fields_of(response) == ["events[1].date"]


@pytest.mark.parametrize("value", BAD_DATES, ids=repr)
def test_a_bad_or_impossible_new_element_date_is_a_400_naming_new_elements_0_date(
    token_client: APIClient, value: Any
) -> None:
    response = post(token_client, body(new_elements=[{"date": value}]))
    assert fields_of(response) == ["new_elements[0].date"]


@pytest.mark.parametrize("value", BAD_DATES, ids=repr)
def test_a_bad_or_impossible_known_on_is_a_400_naming_new_elements_1_known_on(
    token_client: APIClient, value: Any
) -> None:
    elements = [{"date": "2026-01-10"}, {"date": "2026-01-10", "known_on": value}]
    response = post(token_client, body(new_elements=elements))
    assert fields_of(response) == ["new_elements[1].known_on"]


@pytest.mark.parametrize("value", BAD_DATES, ids=repr)
def test_a_bad_or_impossible_as_of_is_a_400_naming_as_of(
    token_client: APIClient, value: Any
) -> None:
    response = post(token_client, body(as_of=value))
    assert fields_of(response) == ["as_of"]


def test_an_impossible_date_is_a_400_naming_the_event_field(token_client: APIClient) -> None:
    response = post(token_client, body(events=two_events(type="registration", date="2026-02-30")))
    assert "not a valid date" in message_for(response, "events[1].date")


def test_a_year_outside_the_supported_range_says_so(token_client: APIClient) -> None:
    response = post(token_client, body(as_of="1800-01-01"))
    assert "year" in message_for(response, "as_of")


@pytest.mark.parametrize("value", ["2026-02-28", "2024-02-29", "1950-01-01", "2090-12-31"])
def test_a_real_date_in_range_is_accepted_as_as_of(token_client: APIClient, value: str) -> None:
    assert post(token_client, body(as_of=value)).status_code == 200


def test_a_missing_event_date_is_a_400_saying_it_is_required(token_client: APIClient) -> None:
    response = post(token_client, body(events=two_events(type="registration")))
    assert fields_of(response) == ["events[1].date"]
    assert "required" in message_for(response, "events[1].date")


def test_a_missing_new_element_date_is_a_400(token_client: APIClient) -> None:
    response = post(token_client, body(new_elements=[{"known_on": "2026-01-12"}]))
    assert fields_of(response) == ["new_elements[0].date"]


def test_known_on_before_the_date_is_a_400_naming_known_on(token_client: APIClient) -> None:
    response = post(
        token_client, body(new_elements=[{"date": "2026-01-10", "known_on": "2026-01-09"}])
    )
    assert fields_of(response) == ["new_elements[0].known_on"]


def test_known_on_the_same_day_as_the_date_is_accepted(token_client: APIClient) -> None:
    response = post(
        token_client, body(new_elements=[{"date": "2026-01-10", "known_on": "2026-01-10"}])
    )
    assert response.status_code == 200, response.content


def test_a_missing_as_of_defaults_to_today(token_client: APIClient) -> None:
    from rules.services import today

    response = post(token_client, body(as_of=None))
    assert response.status_code == 200, response.content
    assert response.json()["as_of"] == today().isoformat()


# --- events ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["appeal", "Registration", "REGISTRATION", "", 7, ["x"], {"code": "registration"}]
)
def test_an_unknown_event_type_is_a_400_naming_events_1_type(
    token_client: APIClient, value: Any
) -> None:
    response = post(token_client, body(events=two_events(type=value, date="2026-04-09")))
    assert fields_of(response) == ["events[1].type"]


def test_a_missing_event_type_is_a_400_naming_the_type(token_client: APIClient) -> None:
    response = post(token_client, body(events=two_events(date="2026-04-09")))
    assert fields_of(response) == ["events[1].type"]


@pytest.mark.parametrize("value", ["registration", 1, None, True])
def test_an_event_that_is_not_an_object_is_a_400_naming_it(
    token_client: APIClient, value: Any
) -> None:
    response = post(
        token_client,
        body(events=[{"type": "prefecture_presentation", "date": "2026-04-02"}, value]),
    )
    assert fields_of(response) == ["events[1]"]


@pytest.mark.parametrize("value", [{}, "events", 3, True])
def test_events_that_are_not_a_list_are_a_400_naming_events(
    token_client: APIClient, value: Any
) -> None:
    assert fields_of(post(token_client, body(events=value))) == ["events"]


def test_a_missing_outcome_where_required_is_a_400_naming_the_outcome(
    token_client: APIClient,
) -> None:
    response = post(
        token_client,
        body(events=two_events(type="ofpra_admissibility_decision", date="2026-04-20")),
    )
    assert fields_of(response) == ["events[1].outcome"]
    message = message_for(response, "events[1].outcome")
    assert "admissible" in message
    assert "inadmissible" in message


@pytest.mark.parametrize(
    "value",
    [
        "maybe",
        "Inadmissible",
        "",
        "protection_granted",
        1,
        True,
        ["inadmissible"],
        {"outcome": "inadmissible"},
    ],
)
def test_an_unknown_outcome_is_a_400_naming_the_outcome(
    token_client: APIClient, value: Any
) -> None:
    response = post(
        token_client,
        body(
            events=two_events(type="ofpra_admissibility_decision", date="2026-04-20", outcome=value)
        ),
    )
    assert fields_of(response) == ["events[1].outcome"]


@pytest.mark.parametrize("value", ["inadmissible", "", 0, False, [], {}])
def test_an_outcome_on_an_event_type_that_takes_none_is_a_400(
    token_client: APIClient, value: Any
) -> None:
    response = post(
        token_client, body(events=two_events(type="registration", date="2026-04-09", outcome=value))
    )
    assert fields_of(response) == ["events[1].outcome"]
    assert "no outcome" in message_for(response, "events[1].outcome")


def test_an_unknown_event_field_is_a_400_naming_it(token_client: APIClient) -> None:
    response = post(
        token_client,
        body(events=two_events(type="registration", date="2026-04-09", when="2026-04-09")),
    )
    assert fields_of(response) == ["events[1].when"]


def test_more_than_500_events_is_a_400_naming_events(token_client: APIClient) -> None:
    events = [{"type": "attestation_issued", "date": "2026-01-01"}] * 501
    response = post(token_client, body(events=events))
    assert fields_of(response) == ["events"]
    assert "500" in message_for(response, "events")


def test_500_events_are_not_refused_for_their_number(token_client: APIClient) -> None:
    events = [{"type": "attestation_issued", "date": "2026-01-01"}] * 499
    events.append({"type": "bogus", "date": "2026-01-01"})
    # An error in the last event proves that all 500 were read rather than refused as too many.
    assert fields_of(post(token_client, body(events=events))) == ["events[499].type"]


# --- new elements ---------------------------------------------------------------------------


def test_more_than_100_new_elements_is_a_400_naming_new_elements(token_client: APIClient) -> None:
    response = post(token_client, body(new_elements=[{"date": "2026-01-10"}] * 101))
    assert fields_of(response) == ["new_elements"]
    assert "100" in message_for(response, "new_elements")


def test_100_new_elements_are_not_refused_for_their_number(token_client: APIClient) -> None:
    elements: list[dict[str, Any]] = [{"date": "2026-01-10"}] * 99 + [{"date": "x"}]
    assert fields_of(post(token_client, body(new_elements=elements))) == ["new_elements[99].date"]


def test_an_unknown_new_element_field_is_a_400_naming_it(token_client: APIClient) -> None:
    response = post(token_client, body(new_elements=[{"date": "2026-01-10", "source": "x"}]))
    assert fields_of(response) == ["new_elements[0].source"]


@pytest.mark.parametrize("value", [1, ["x"], {"text": "x"}, True])
def test_a_description_that_is_not_text_is_a_400(token_client: APIClient, value: Any) -> None:
    response = post(token_client, body(new_elements=[{"date": "2026-01-10", "description": value}]))
    assert fields_of(response) == ["new_elements[0].description"]


@pytest.mark.parametrize("value", [{}, "x", 1])
def test_new_elements_that_are_not_a_list_are_a_400(token_client: APIClient, value: Any) -> None:
    assert fields_of(post(token_client, body(new_elements=value))) == ["new_elements"]


# --- previous_reexaminations ----------------------------------------------------------------


@pytest.mark.parametrize(
    "value", [-1, -1000, 1.5, 1.0, "1", "one", True, False, [1], {"n": 1}, 10**30]
)
def test_a_bad_previous_reexaminations_is_a_400_naming_it(
    token_client: APIClient, value: Any
) -> None:
    response = post(token_client, body(previous_reexaminations=value))
    assert fields_of(response) == ["previous_reexaminations"]


def test_a_negative_previous_reexaminations_says_it_must_not_be_negative(
    token_client: APIClient,
) -> None:
    response = post(token_client, body(previous_reexaminations=-1))
    assert "negative" in message_for(response, "previous_reexaminations")


@pytest.mark.parametrize("value", [0, 1, 3])
def test_a_whole_previous_reexaminations_is_accepted(token_client: APIClient, value: int) -> None:
    assert post(token_client, body(previous_reexaminations=value)).status_code == 200


# --- unknown fields and several errors ------------------------------------------------------


def test_an_unknown_top_level_field_is_a_400_naming_it(token_client: APIClient) -> None:
    response = post(token_client, body(applicant="Jane Doe"))
    assert fields_of(response) == ["applicant"]
    assert "unknown" in message_for(response, "applicant")


def test_an_unknown_field_whose_name_is_a_lone_surrogate_is_a_400_not_a_500(
    token_client: APIClient,
) -> None:
    # Valid JSON syntax ("\ud800" escapes half of a UTF-16 pair) that no UTF-8 text can hold.
    token_client.raise_request_exception = False
    raw = json.dumps(EXAMPLE)[:-1] + ', "\\ud800": 1}'
    assert post(token_client, raw).status_code == 400


def test_an_unknown_event_field_whose_name_is_a_lone_surrogate_is_a_400_not_a_500(
    token_client: APIClient,
) -> None:
    token_client.raise_request_exception = False
    raw = json.dumps(body(events=[{"type": "registration", "date": "2026-04-09", "x": 1}]))
    raw = raw.replace('"x": 1', '"\\udfff": 1')
    assert post(token_client, raw).status_code == 400


def test_several_errors_are_all_listed(token_client: APIClient) -> None:
    payload = {
        "procedure": "asylum-reexamination",
        "department": "96",
        "previous_reexaminations": -2,
        "as_of": "2026-02-30",
        "events": [
            {"type": "prefecture_presentation", "date": "2026-04-02"},
            {"type": "teleportation", "date": "2026-04-03"},
            {"type": "ofpra_admissibility_decision", "date": "2026-13-01"},
            {"type": "registration", "date": "2026-04-09", "outcome": "admissible", "x": 1},
        ],
        "new_elements": [{"date": "2026-01-10", "known_on": "2026-01-01"}, {"date": 5}],
        "colour": "blue",
    }
    assert sorted(fields_of(post(token_client, payload))) == sorted(
        [
            "department",
            "previous_reexaminations",
            "as_of",
            "events[1].type",
            "events[2].date",
            "events[2].outcome",
            "events[3].outcome",
            "events[3].x",
            "new_elements[0].known_on",
            "new_elements[1].date",
            "colour",
        ]
    )


def test_other_methods_are_refused_in_the_error_shape(token_client: APIClient) -> None:
    error_list(token_client.get(URL), 405)
    error_list(token_client.put(URL, data="{}", content_type="application/json"), 405)


# --- property: random payloads are a 200 or a 400, never a 500 ------------------------------

EVENT_CODES = [e["code"] for e in PACK["event_types"]]
OUTCOMES = sorted({o for e in PACK["event_types"] for o in e["outcomes"]})
DEPARTMENTS = ["54", "2A", "2b", "1", "971", "976", "75", " 13", "20", "96", "975", "", "xx"]
FIELD_NAMES = [
    "procedure",
    "department",
    "previous_reexaminations",
    "as_of",
    "events",
    "new_elements",
]


def random_scalar(rng: random.Random) -> Any:
    kind = rng.randrange(9)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False])
    if kind == 2:
        return rng.choice([0, 1, -1, 2, 499, 501, 10**20, -(10**20)])
    if kind == 3:
        return rng.choice([0.5, -0.0, 1e308, -1.5])
    if kind == 4:
        return rng.choice(["", " ", "x", "é", "\u2028", "\u0000", "null", "2026-02-30"])
    if kind == 5:
        return "".join(rng.choice(string.printable) for _ in range(rng.randrange(12)))
    if kind == 6:
        return random_date(rng)
    if kind == 7:
        return [random_scalar(rng) for _ in range(rng.randrange(3))]
    return {rng.choice(["type", "date", "a"]): random_scalar(rng) for _ in range(rng.randrange(3))}


def random_date(rng: random.Random) -> Any:
    if rng.random() < 0.85:
        day = dt.date(2015, 1, 1) + dt.timedelta(days=rng.randrange(4500))
        return day.isoformat()
    return rng.choice(
        [
            "2026-02-30",
            "2026-13-01",
            "1949-12-31",
            "2091-01-01",
            "2026-5-1",
            "20260101",
            20260101,
            "1950-01-01",
            "2090-12-31",
            None,
            "",
        ]
    )


def random_event(rng: random.Random) -> Any:
    if rng.random() < 0.05:
        return random_scalar(rng)
    event: dict[str, Any] = {}
    if rng.random() < 0.95:
        event["type"] = rng.choice(EVENT_CODES) if rng.random() < 0.9 else random_scalar(rng)
    if rng.random() < 0.95:
        event["date"] = random_date(rng)
    if rng.random() < 0.4:
        event["outcome"] = rng.choice(OUTCOMES) if rng.random() < 0.8 else random_scalar(rng)
    if rng.random() < 0.03:
        event[rng.choice(["when", "note", "Type"])] = random_scalar(rng)
    return event


def random_new_element(rng: random.Random) -> Any:
    if rng.random() < 0.05:
        return random_scalar(rng)
    element: dict[str, Any] = {}
    if rng.random() < 0.95:
        element["date"] = random_date(rng)
    if rng.random() < 0.5:
        element["known_on"] = random_date(rng)
    if rng.random() < 0.4:
        element["description"] = (
            rng.choice(["arrest warrant", "", "é" * 10])
            if rng.random() < 0.9
            else random_scalar(rng)
        )
    return element


def random_payload(rng: random.Random) -> Any:
    """Mostly well-formed cases (so that evaluations run), some with random values anywhere."""
    if rng.random() < 0.03:
        return random_scalar(rng)
    well_formed = rng.random() < 0.5
    payload: dict[str, Any] = {}
    for name in FIELD_NAMES:
        if not well_formed and rng.random() < 0.1:
            continue  # leave the field out
        if not well_formed and rng.random() < 0.1:
            payload[name] = random_scalar(rng)
        elif name == "procedure":
            payload[name] = "asylum-reexamination"
        elif name == "department":
            payload[name] = rng.choice(DEPARTMENTS[:7] if well_formed else DEPARTMENTS)
        elif name == "previous_reexaminations":
            counts = [0, 0, 0, 1, 2, 3] + ([] if well_formed else [-1, 1000, 1001])
            payload[name] = rng.choice(counts)
        elif name == "as_of":
            payload[name] = good_date(rng) if well_formed else random_date(rng)
        elif name == "events":
            count = rng.randrange(12)
            payload[name] = [
                good_event(rng) if well_formed else random_event(rng) for _ in range(count)
            ]
        else:
            count = rng.randrange(4)
            payload[name] = [
                good_new_element(rng) if well_formed else random_new_element(rng)
                for _ in range(count)
            ]
    if not well_formed and rng.random() < 0.05:
        payload[rng.choice(["extra", "Events", "asOf"])] = random_scalar(rng)
    return payload


def good_date(rng: random.Random) -> str:
    return (dt.date(2019, 1, 1) + dt.timedelta(days=rng.randrange(2900))).isoformat()


def good_event(rng: random.Random) -> dict[str, Any]:
    event_type = rng.choice(PACK["event_types"])
    event = {"type": event_type["code"], "date": good_date(rng)}
    if event_type["outcomes"]:
        event["outcome"] = rng.choice(event_type["outcomes"])
    return event


def good_new_element(rng: random.Random) -> dict[str, Any]:
    day = dt.date(2018, 6, 1) + dt.timedelta(days=rng.randrange(3000))
    return {
        "date": day.isoformat(),
        "known_on": (day + dt.timedelta(days=rng.randrange(60))).isoformat(),
        "description": "new evidence",
    }


def check_success(data: dict[str, Any]) -> None:
    """A few parts of the 200 contract that hold for any case."""
    for name in (
        "procedure",
        "rule_pack",
        "as_of",
        "competent_prefecture",
        "track",
        "submission_channels",
        "admissibility",
        "right_to_remain",
        "deadlines",
        "warnings",
        "notes",
    ):
        assert name in data, name
    keys = [d["key"] for d in data["deadlines"]]
    assert len(keys) == len(set(keys)), keys
    dues = [d["due"] for d in data["deadlines"]]
    dated = [d for d in dues if d is not None]
    assert dues == sorted(dated) + [None] * (len(dues) - len(dated)), dues


def test_random_payloads_are_a_200_or_a_400_never_a_500(token_client: APIClient) -> None:
    """Property: 200 seeded random requests (hypothesis is not a project dependency)."""
    token_client.raise_request_exception = False
    rng = random.Random(20260525)
    started = time.monotonic()
    statuses: collections.Counter[int] = collections.Counter()
    for example in range(200):
        payload = random_payload(rng)
        response = post(token_client, payload)
        context = f"example {example}: {json.dumps(payload)[:2000]}"
        statuses[response.status_code] += 1
        assert response.status_code in (200, 400), (
            context,
            response.status_code,
            response.content[:2000],
        )
        if response.status_code == 400:
            error_list(response)
        else:
            check_success(response.json())
        if time.monotonic() - started > 30:
            break
    # Both kinds were exercised: the evaluation as well as the validation.
    assert statuses[200] >= 20, statuses
    assert statuses[400] >= 20, statuses
