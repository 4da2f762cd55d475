"""Pack version 2's `review_horizon` (§7.5): it fires on a due date after `reviewed_until` as well
as on an event, its message is built from the setting, and a blank setting never fires it."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

from rules.engine.evaluate import compile_pack, evaluate
from rules.engine.inputs import CaseFacts, Event
from rules.engine.pack import parse_pack

V2 = Path(__file__).resolve().parents[2] / "rules" / "packs" / "asylum-reexamination" / "v2"


def v2(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((V2 / "pack.json").read_text(encoding="utf-8"))
    data.update(changes)
    return data


def warnings_of(data: dict[str, Any], events: list[tuple[str, str]], language: str = "en") -> Any:
    case = CaseFacts(
        department="57",
        events=tuple(Event(kind, dt.date.fromisoformat(day)) for kind, day in events),
        as_of=dt.date(2026, 6, 11),
    )
    return evaluate(compile_pack(parse_pack(data)), case, language)["warnings"]


PRESENTED_ON_THE_HORIZON = [("prefecture_presentation", "2026-06-11")]  # due after 11 June


def test_a_due_date_after_reviewed_until_fires_review_horizon_in_both_languages() -> None:
    english = warnings_of(v2(), PRESENTED_ON_THE_HORIZON)
    french = warnings_of(v2(), PRESENTED_ON_THE_HORIZON, "fr")
    assert [w["code"] for w in english] == ["review_horizon"]
    assert english[0]["deadlines"] == ["registration"]
    assert english[0]["horizon"] is True
    assert "reviewed against the law up to 11 June 2026" in english[0]["message"]
    assert english[0]["title"] == "Law after the review date not checked"
    assert "revu au regard du droit jusqu'au 11 juin 2026" in french[0]["message"]
    assert french[0]["title"] == "Droit non vérifié au-delà de la date de revue"


def test_the_message_follows_the_setting_no_date_is_typed_in_it() -> None:
    warning = next(w for w in v2()["warnings"] if w["code"] == "review_horizon")
    for text in (warning["message"], v2()["translations"]["fr"][warning["message"]]):
        assert "{pack.reviewed_until}" in text
        assert not re.search(r"\b20[0-9]{2}-[0-9]{2}|\b[0-9]{1,2} (June|juin)", text)
    presented = [("prefecture_presentation", "2026-05-29")]
    moved = warnings_of(v2(reviewed_until="2026-06-01"), presented)
    assert "up to 1 June 2026" in moved[0]["message"]


def test_due_dates_on_or_before_reviewed_until_give_no_review_horizon() -> None:
    assert warnings_of(v2(), [("prefecture_presentation", "2026-06-01")]) == []


def test_a_blank_reviewed_until_is_valid_and_never_fires_review_horizon() -> None:
    assert warnings_of(v2(reviewed_until=None), PRESENTED_ON_THE_HORIZON) == []
