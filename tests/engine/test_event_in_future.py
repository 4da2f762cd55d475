"""An event dated after the day of evaluation gets the engine's own `event_in_future` warning."""

from __future__ import annotations

from .made_up import pack, run


def codes(result: dict[str, object]) -> list[str]:
    return [w["code"] for w in result["warnings"]]  # type: ignore[attr-defined]


def test_an_event_after_as_of_is_warned_about_in_english_and_french() -> None:
    events = [("decision", "2026-03-02"), ("filing", "2026-03-20")]
    english = run(pack(), events, as_of="2026-03-10")
    french = run(pack(), events, as_of="2026-03-10", language="fr")
    assert english["warnings"] == [
        {
            "code": "event_in_future",
            "title": "Event dated after the day of evaluation",
            "message": "An event is dated after the day of evaluation (10 March 2026): "
            "20 March 2026. Check the date: a typing mistake, or a step that has not "
            "happened yet.",
            "legal_basis": "",
        }
    ]
    assert french["warnings"][0]["message"].startswith(
        "Un événement est daté après le jour de l'évaluation (10 mars 2026) : 20 mars 2026."
    )


def test_events_on_or_before_as_of_give_no_warning() -> None:
    events = [("decision", "2026-03-02"), ("filing", "2026-03-10")]
    assert codes(run(pack(), events, as_of="2026-03-10")) == []
