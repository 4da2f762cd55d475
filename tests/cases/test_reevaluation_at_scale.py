"""A law change through many cases: one evaluation per case, and a chunk's queries do not grow
with its cases (bulk reads of facts and deadlines, bulk writes of what changed)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases import reach, reevaluation
from cases.models import Case, Deadline, Organisation
from rules.models import PackVersion
from rules.services import evaluate_in_languages, evaluate_request
from tests.cases.personas import make_case
from tests.cases.workbench import draft_with_ofpra_days, publish
from tests.rules.test_random_timelines import generate_cases

REASON = "Décret 2026-123: 10 days to send the request"


def test_it_writes_every_languages_texts_from_one_evaluation_as_each_language_would(
    asylum_pack: PackVersion,
) -> None:
    for request in generate_cases(count=60, seed=7):
        both = evaluate_in_languages(request, ["fr", "en"])
        for language in ("fr", "en"):
            assert both[language] == evaluate_request({**request, "language": language})


def _cases(org: Organisation, user: User, pack: PackVersion, count: int) -> list[Case]:
    return [
        make_case(
            org,
            user,
            pack,
            reference=f"S-{n}",
            events=[
                ("prefecture_presentation", dt.date(2026, 4, 2)),
                ("registration", dt.date(2026, 4, 8 + n % 5)),
            ],
        )
        for n in range(count)
    ]


def _chunk_queries(pack: PackVersion, user: User, cases: int, org: Organisation) -> int:
    draft = draft_with_ofpra_days(pack, 10 + cases)
    publish(draft, reason=REASON, user=user, hooks=False)
    run = reevaluation.start_run(draft.pk, chunk_size=1000)
    (chunk,) = run.chunks.all()
    reach.version_definition.cache_clear()  # the old version's definition, read once per process
    with CaptureQueriesContext(connection) as queries:
        assert reevaluation.apply_chunk(chunk.pk) == "applied"
    run.refresh_from_db()
    assert run.changed_cases == run.total_cases
    return len(queries)


def test_it_applies_a_chunk_in_as_many_queries_for_30_cases_as_for_3(
    asylum_pack: PackVersion, org_a: Organisation, carla: User, sofia: User, settings: Any
) -> None:
    _cases(org_a, carla, asylum_pack, 3)
    small = _chunk_queries(asylum_pack, sofia, 3, org_a)
    for deadline in Deadline.objects.filter(key="ofpra_submission")[:1]:
        last = deadline.history.latest()
        assert last.history_change_reason == f"rule pack v2 published: {REASON}"
        assert last.history_user == sofia
    Case.objects.all().delete()
    _cases(org_a, carla, asylum_pack, 30)
    large = _chunk_queries(asylum_pack, sofia, 30, org_a)
    assert large == small, (small, large)
