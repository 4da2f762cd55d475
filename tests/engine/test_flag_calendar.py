"""The calendar that flags a non-working day is the rule's `calendar` (counting and flag alike).

§7.2 asks that deadlines the applicant must meet flag non-working days on the applicant's
department calendar: `calendar: "applicant"` does it; no separate field is needed, since a
calendar-day deadline uses its calendar only to flag the due date.
"""

from __future__ import annotations

from .made_up import filing, pack, run, versions

# 8 days after 26 March 2026 is Good Friday, 3 April 2026: a holiday in Alsace-Moselle only.
GOOD_FRIDAY_DUE = [("decision", "2026-03-26")]


def test_a_resident_of_67_sees_good_friday_flagged_on_the_applicants_calendar() -> None:
    deadline = filing(run(pack(), GOOD_FRIDAY_DUE, department="67"))
    assert deadline["due"] == "2026-04-03"
    assert deadline["non_working_day"] is True
    assert deadline["non_working_reason"] == "Good Friday"
    assert deadline["calendar"] == "FR-57"


def test_a_resident_of_paris_sees_the_same_day_as_a_working_day() -> None:
    deadline = filing(run(pack(), GOOD_FRIDAY_DUE, department="75"))
    assert (deadline["due"], deadline["non_working_day"], deadline["calendar"]) == (
        "2026-04-03",
        False,
        "FR",
    )


def test_the_national_calendar_does_not_flag_good_friday_for_a_resident_of_67() -> None:
    data = pack()
    versions(data)[0]["calendar"] = "national"
    deadline = filing(run(data, GOOD_FRIDAY_DUE, department="67"))
    assert (deadline["non_working_day"], deadline["calendar"]) == (False, "FR")
