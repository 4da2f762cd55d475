"""`extension: "possible"`: the due date stays, the next working day says what may still be done."""

from __future__ import annotations

from typing import Any

import pytest

from rules.engine.pack import PackError, dump_pack, parse_pack

from .made_up import filing, pack, run, versions

# Due on Good Friday 3 April 2026 in Alsace-Moselle (67 -> calendar 57); the weekend and Easter
# Monday follow, so the next working day there is Tuesday 7 April.
DECISION = ("decision", "2026-03-26")


def extensible() -> dict[str, object]:
    data = pack()
    versions(data)[0].update(
        extension="possible", extension_basis="Test code art. 642", extension_confidence="likely"
    )
    return data


def at(
    as_of: str, *events: tuple[str, str], department: str = "67", language: str = "en"
) -> dict[str, Any]:
    return filing(
        run(
            extensible(), [DECISION, *events], department=department, as_of=as_of, language=language
        )
    )


def test_a_flagged_due_date_gives_the_next_working_day_and_keeps_the_due_date() -> None:
    deadline = at("2026-04-01")
    assert deadline["due"] == "2026-04-03"
    assert deadline["next_working_day"] == "2026-04-07"
    assert deadline["extension"] == {"legal_basis": "Test code art. 642", "confidence": "likely"}
    assert (deadline["status"], deadline["status_label"]) == ("open", "open")
    assert (
        "may be extended to the next working day, Tuesday 7 April 2026" in (deadline["explanation"])
    )


def test_after_the_due_date_and_up_to_the_next_working_day_it_is_possibly_open() -> None:
    for day in ("2026-04-04", "2026-04-07"):
        deadline = at(day)
        assert deadline["status"] == "possibly_open"
        assert deadline["status_label"] == (
            "may still be possible until 7 April 2026 \u2014 check with a lawyer"
        )


def test_the_possibly_open_label_is_in_french_for_a_french_reader() -> None:
    deadline = at("2026-04-05", language="fr")
    assert deadline["status_label"] == (
        "peut-être encore possible jusqu'au 7 avril 2026 \u2014 à vérifier avec un juriste"
    )
    assert "mardi 7 avril 2026" in deadline["explanation"]


def test_after_the_next_working_day_it_is_missed() -> None:
    assert at("2026-04-08")["status"] == "missed"


def test_a_step_done_after_the_due_date_but_by_the_next_working_day_is_possibly_met() -> None:
    deadline = at("2026-05-01", ("filing", "2026-04-07"))
    assert deadline["status"] == "possibly_met"
    assert deadline["status_label"] == "in time only if the limit is extended"
    french = at("2026-05-01", ("filing", "2026-04-07"), language="fr")
    assert french["status_label"] == "dans le délai seulement si l'échéance est prorogée"


def test_a_step_done_on_the_due_date_is_met_and_one_after_the_next_working_day_missed() -> None:
    assert at("2026-05-01", ("filing", "2026-04-03"))["status"] == "met"
    assert at("2026-05-01", ("filing", "2026-04-08"))["status"] == "missed"


def test_a_due_date_on_a_working_day_has_no_next_working_day_and_no_grace() -> None:
    deadline = at("2026-04-04", department="75")
    assert (deadline["due"], deadline["next_working_day"], deadline["status"]) == (
        "2026-04-03",
        None,
        "missed",
    )


def test_a_rule_without_extension_is_missed_the_day_after_a_flagged_due_date() -> None:
    deadline = filing(run(pack(), [DECISION], department="67", as_of="2026-04-04"))
    assert deadline["status"] == "missed"
    assert "next_working_day" not in deadline
    assert "extension" not in deadline


def test_an_extension_needs_its_basis_and_confidence_and_a_flagged_date() -> None:
    data = pack()
    versions(data)[0].update(extension="possible", non_working_day_policy="next_working_day")
    with pytest.raises(PackError) as caught:
        parse_pack(data)
    paths = {path for path, _ in caught.value.errors}
    assert paths == {
        "deadline_rules[0].versions[0].extension",
        "deadline_rules[0].versions[0].extension_basis",
        "deadline_rules[0].versions[0].extension_confidence",
    }


def test_an_extension_basis_without_the_extension_is_refused() -> None:
    data = pack()
    versions(data)[0].update(extension_basis="Art. 642")
    with pytest.raises(PackError) as caught:
        parse_pack(data)
    assert caught.value.errors == [
        ("deadline_rules[0].versions[0].extension_basis", "only with extension: possible")
    ]


def test_the_extension_round_trips_and_is_left_out_of_a_dump_when_not_possible() -> None:
    dumped = dump_pack(parse_pack(extensible()))
    version = dumped["deadline_rules"][0]["versions"][0]
    assert (version["extension"], version["extension_confidence"]) == ("possible", "likely")
    assert parse_pack(dumped) == parse_pack(extensible())
    plain = dump_pack(parse_pack(pack()))["deadline_rules"][0]["versions"][0]
    assert not {"extension", "extension_basis", "extension_confidence"} & set(plain)
