"""A request's strings that UTF-8 cannot encode are found and named, whatever else it holds.

The usual answer ("none") comes from one orjson call; when orjson refuses the value for another
reason (an integer past 64 bits, a key that is not a string), the walk over the value decides.
"""

from __future__ import annotations

from rules.engine.inputs import unencodable_field


def test_a_request_of_ordinary_text_has_no_unencodable_field() -> None:
    payload = {"procedure": "réexamen", "events": [{"type": "registration", "date": "2026-04-09"}]}
    assert unencodable_field(payload) is None


def test_a_lone_surrogate_in_a_nested_value_is_named_by_its_path() -> None:
    payload = {"events": [{"type": "registration"}, {"type": "x\ud800"}]}
    assert unencodable_field(payload) == "events[1].type"


def test_a_lone_surrogate_beside_an_integer_orjson_refuses_is_still_found() -> None:
    assert unencodable_field({"count": 2**70, "events": ["\udfff"]}) == "events[0]"


def test_an_integer_orjson_refuses_is_not_taken_for_unencodable_text() -> None:
    assert unencodable_field({"previous_reexaminations": 2**70, "department": "54"}) is None


def test_a_key_that_is_not_text_does_not_hide_a_lone_surrogate() -> None:
    assert unencodable_field({1: "ok", "name": "\ud834"}) == "name"
