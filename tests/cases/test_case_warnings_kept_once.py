"""A case's warnings that concern the whole case are kept once, on the case, not in each of its
deadline rows: a publication that moves the review horizon changes the message of every case
with an event past it, and the re-evaluation rewrites the cases, not their deadline rows (no
history row, no new texts), while every place a deadline's warnings are read (the row itself,
the dashboard, the CSV export, the calendar feed) shows the new message. Rows stored before
(the case's warnings copied into each row) are moved by migration 0017 and, until then, read the
same (the copies merged by code)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.urls import reverse
from django.utils import translation

from cases import actions, reevaluation
from cases.models import Case, Deadline, Membership, Organisation, warnings_in
from rules.models import PackVersion
from rules.packstore import copy_as_draft
from tests.cases.personas import make_case
from tests.cases.workbench import publish

# Version 1's review-horizon warning, on an event after its reviewed_until (11 June 2026).
OLD = {
    "en": "This rule pack was reviewed for events up to 11 June 2026.",
    "fr": "Ce jeu de règles a été revu pour les événements jusqu'au 11 juin 2026.",
}
NEW = {
    "en": "This rule pack was reviewed for events up to 12 June 2026.",
    "fr": "Ce jeu de règles a été revu pour les événements jusqu'au 12 juin 2026.",
}


@pytest.fixture
def past_horizon(asylum_pack: PackVersion, org_a: Organisation, carla: User) -> Case:
    """Presented on 1 July 2026, after version 1's review horizon: a warning on the case."""
    return make_case(
        org_a,
        carla,
        asylum_pack,
        [("prefecture_presentation", dt.date(2026, 7, 1))],
        reference="H-7",
        department="54",
    )


def read(client: Client, url: str) -> str:
    """A page or a streamed file, the language its request activated not left to later tests."""
    with translation.override(settings.LANGUAGE_CODE):
        response = client.get(url)
        assert response.status_code == 200, url
        return response.getvalue().decode()


def messages(warnings: list[dict[str, str]]) -> list[str]:
    return [w["message"] for w in warnings if w["code"] == "review_horizon"]


def test_the_warning_on_the_whole_case_is_kept_on_the_case_not_in_its_rows(
    past_horizon: Case,
) -> None:
    rows = list(past_horizon.deadlines.all())
    assert rows
    for language in ("fr", "en"):
        (shared,) = past_horizon.case_warnings[language]
        assert shared["message"].startswith(OLD[language])
        for row in rows:
            assert "review_horizon" not in str(row.texts)
            # What every reader of a deadline gets: the case's warning with the row's own.
            (message,) = messages(row.warnings_in(language))
            assert message.startswith(OLD[language])


def test_a_new_review_horizon_rewrites_no_deadline_row_and_every_reader_shows_it(
    client: Client, asylum_pack: PackVersion, past_horizon: Case, carla: User
) -> None:
    rows_before = list(Deadline.objects.filter(case=past_horizon).order_by("pk").values())
    history_before = Deadline.history.count()
    draft = PackVersion.objects.get(pk=copy_as_draft(asylum_pack).pk)
    assert draft.reviewed_until == dt.date(2026, 6, 11)
    draft.reviewed_until = dt.date(2026, 6, 12)
    draft.save()
    publish(draft, reason="the law reviewed a day further", hooks=False)
    run = reevaluation.start_run(draft.pk)
    for chunk in run.chunks.all():
        assert reevaluation.apply_chunk(chunk.pk) == "applied"

    # The deadline rows are as they were (texts, provenance, updated_at), with no history row.
    assert list(Deadline.objects.filter(case=past_horizon).order_by("pk").values()) == rows_before
    assert Deadline.history.count() == history_before
    past_horizon.refresh_from_db()
    assert past_horizon.evaluated_pack_version_id == draft.pk
    for language in ("fr", "en"):
        for row in past_horizon.deadlines.all():
            (message,) = messages(row.warnings_in(language))
            assert message.startswith(NEW[language])

    client.force_login(carla)
    for language in ("fr", "en"):
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        dashboard = read(client, reverse("dashboard"))
        assert NEW[language].replace("'", "&#x27;") in dashboard
        assert OLD[language].replace("'", "&#x27;") not in dashboard
        csv = read(client, reverse("deadlines-csv"))
        assert NEW[language] in csv
        assert OLD[language] not in csv
    token = Membership.objects.get(user=carla).feed_token
    for language in ("fr", "en"):
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        feed = read(client, reverse("calendar-feed", args=[token]))
        unfolded = feed.replace("\r\n ", "")
        assert NEW[language] in unfolded
        assert OLD[language] not in unfolded


def test_a_row_stored_with_its_cases_warning_reads_it_once() -> None:
    shared = {"code": "review_horizon", "title": "t", "message": "m"}
    own = {"code": "a_deadline_warning", "title": "t2", "message": "m2"}
    texts = {"en": {"label": "x", "warnings": [own, shared]}}
    assert warnings_in(texts, "en", {"en": [shared]}) == [own, shared]
    assert warnings_in(texts, "en", {}) == [own, shared]
    # A language the case's warnings were not stored in: the site's default.
    default = settings.LANGUAGE_CODE[:2]
    assert warnings_in({}, "xx", {default: [shared]}) == [shared]


@pytest.mark.django_db(transaction=True)
def test_the_migration_moves_the_cases_warnings_out_of_their_rows(
    asylum_pack: PackVersion, org_a: Organisation, carla: User
) -> None:
    case = make_case(org_a, carla, asylum_pack, [("prefecture_presentation", dt.date(2026, 7, 1))])
    case_warning = case.case_warnings
    shown = {
        row.pk: {lang: row.warnings_in(lang) for lang in ("fr", "en")}
        for row in case.deadlines.all()
    }
    texts = {row.pk: row.texts for row in case.deadlines.all()}
    # As rows were stored before 0017: the case's warnings copied into each row's texts.
    for row in case.deadlines.all():
        copied = {
            lang: {**text, "warnings": [*text.get("warnings", []), *case_warning[lang]]}
            for lang, text in row.texts.items()
        }
        Deadline.objects.filter(pk=row.pk).update(texts=copied)
    before = [("cases", "0016_pending_indexes_carry_the_row")]
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes("cases")
    executor.migrate(before)
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(latest)

    case.refresh_from_db()
    assert case.case_warnings == case_warning
    for row in case.deadlines.all():
        assert row.texts == texts[row.pk]
        assert {lang: row.warnings_in(lang) for lang in ("fr", "en")} == shown[row.pk]


def test_the_case_stores_what_evaluating_it_again_says(past_horizon: Case) -> None:
    results: dict[str, Any] = actions.evaluate_case(past_horizon, None)
    stored = Case.objects.get(pk=past_horizon.pk)  # as saved, not the object in memory
    assert stored.case_warnings == actions.case_warnings(results)
    assert [w["code"] for w in stored.case_warnings["fr"]] == ["review_horizon"]
