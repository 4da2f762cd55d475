"""A case keeps its own results; what a result says of the pack alone (its version, dates and
notes, half of a result) is read from the version the case was evaluated with. A re-evaluation
that cannot change a case then records the new version without rewriting its results, and on
PostgreSQL those writes are made in place (no indexed column moves)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import translation

from cases import actions
from cases.models import Case, Organisation
from rules.engine.evaluate import PACK_PARTS
from rules.models import PackVersion
from rules.services import published_version
from tests.cases.personas import make_case
from tests.cases.test_reevaluation_narrowing import apply_run, draft_moving
from tests.cases.workbench import publish

START = [
    ("prefecture_presentation", dt.date(2026, 4, 2)),
    ("registration", dt.date(2026, 4, 8)),
    ("ofpra_submission", dt.date(2026, 4, 12)),
]


def test_the_stored_result_with_its_versions_pack_parts_is_what_the_engine_gives(
    asylum_pack: PackVersion, org_a: Organisation, carla: User
) -> None:
    case = make_case(org_a, carla, asylum_pack, events=START)
    case.refresh_from_db()
    for language in actions.site_languages():
        assert not set(PACK_PARTS) & set(case.evaluation[language])
    fresh = actions.evaluate_case(case, published_version("asylum-reexamination"))
    for language in actions.site_languages():
        expected = {k: v for k, v in fresh[language].items() if k != "deadlines"}
        assert expected["notes"], "the shipped pack has notes"
        assert actions.stored_result(case, language) == expected


def test_the_case_page_shows_the_version_and_notes_a_narrowed_run_recorded(
    asylum_pack: PackVersion, org_a: Organisation, carla: User, client: Client
) -> None:
    case = make_case(org_a, carla, asylum_pack, events=START)  # no incomplete-file notice
    draft = draft_moving(asylum_pack, "file_completion")
    draft.notes = "Only this version says this."
    draft.save()
    publish(draft, reason="Décret 2026-124", hooks=False)
    # Published with new notes, the change reaches every case: evaluated, not stamped.
    apply_run(draft)
    narrow = draft_moving(PackVersion.objects.get(pk=draft.pk), "file_completion")
    publish(narrow, reason="Décret 2026-125", hooks=False)
    before = Case.objects.values_list("evaluation", flat=True).get(pk=case.pk)

    run = apply_run(narrow)

    assert (run.done_cases, run.changed_cases) == (1, 0)
    stamped = Case.objects.get(pk=case.pk)
    assert stamped.evaluation == before  # results not rewritten
    assert stamped.evaluated_pack_version_id == narrow.pk
    client.force_login(carla)
    for language, words in (("en", "rules version"), ("fr", "règles version")):
        # override: the page's language does not outlive the request into other tests
        with translation.override(language):
            page = client.get(reverse("case-detail", args=[case.pk]), HTTP_ACCEPT_LANGUAGE=language)
        assert page.status_code == 200
        assert page.context["rule_pack"]["version"] == narrow.number
        assert page.context["notes"] == ["Only this version says this."]
        assert f"{words} {narrow.number}" in page.content.decode()


@pytest.mark.django_db(transaction=True)  # VACUUM runs outside a transaction
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's in-place updates")
def test_recording_a_new_version_on_a_case_it_cannot_change_updates_rows_in_place(
    asylum_pack: PackVersion, org_a: Organisation, carla: User
) -> None:
    case = make_case(org_a, carla, asylum_pack, events=START)
    narrow = draft_moving(asylum_pack, "file_completion")
    publish(narrow, reason="Décret 2026-124", hooks=False)
    with connection.cursor() as cursor:  # what the case's own saves left behind, cleared
        cursor.execute("VACUUM cases_case, cases_deadline")

    with transaction.atomic():
        before = _updates()
        run = apply_run(narrow)
        after = _updates()

    assert (run.done_cases, run.changed_cases) == (1, 0)
    assert Case.objects.get(pk=case.pk).evaluated_pack_version_id == narrow.pk
    updated, in_place = (after["cases_case"][i] - before["cases_case"][i] for i in (0, 1))
    assert updated > 0
    assert in_place == updated, f"cases_case: {updated - in_place} updates moved index entries"
    # Its deadline rows keep the version that wrote their values: not written at all.
    assert after["cases_deadline"] == before["cases_deadline"]


def _updates() -> dict[str, tuple[int, int]]:
    """Rows updated, and of those in place (HOT), in this transaction, by table."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables "
            "WHERE relname IN ('cases_case', 'cases_deadline')"
        )
        found = {name: (updated, hot) for name, updated, hot in cursor.fetchall()}
    return {table: found.get(table, (0, 0)) for table in ("cases_case", "cases_deadline")}
