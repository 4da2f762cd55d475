"""After a re-evaluation, each caseworker whose cases moved gets one email saying which and how."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone

from cases.models import Organisation, ReevaluationRun
from notifications.models import RecomputeNotice
from notifications.recompute import notices_to_queue
from notifications.tasks import notify_caseworkers, queue_notices
from rules.models import PackVersion
from tests.cases.personas import make_case, make_member
from tests.cases.workbench import draft_with_ofpra_days, publish
from tests.notifications.servers import SmtpServer

REGISTERED = [
    ("prefecture_presentation", dt.date(2026, 4, 2)),
    ("registration", dt.date(2026, 4, 8)),
]


def notices(smtp: SmtpServer) -> list[Any]:
    return [m for m in smtp.messages if str(m["Message-ID"]).startswith("<recompute-")]


def test_each_caseworker_is_told_once_in_french_which_cases_moved_and_how(
    asylum_pack: PackVersion,
    org_a: Organisation,
    caseworker: User,
    smtp_server: SmtpServer,
    celery_eager: None,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    colleague = make_member("camille", org_a, "caseworker", "Camille", "Roy")
    colleague.email = "camille@cimade-metz.example.org"
    colleague.save()
    quiet = make_member("quentin", org_a, "caseworker")
    quiet.email = "quentin@cimade-metz.example.org"
    quiet.save()
    make_case(org_a, caseworker, asylum_pack, reference="MZ-101", events=REGISTERED)
    make_case(org_a, caseworker, asylum_pack, reference="MZ-102", events=REGISTERED)
    make_case(org_a, colleague, asylum_pack, reference="MZ-201", events=REGISTERED)
    # Presented but not registered: no OFPRA-submission deadline, nothing moves.
    make_case(org_a, quiet, asylum_pack, reference="MZ-301", events=REGISTERED[:1])

    draft = draft_with_ofpra_days(asylum_pack, 10)
    with django_capture_on_commit_callbacks(execute=True):
        publish(draft, reason="Décret n° 2026-123")

    sent = notices(smtp_server)
    assert sorted(m["To"] for m in sent) == [
        "camille@cimade-metz.example.org",
        "carla@cimade-metz.example.org",
    ]
    carla_mail = next(m for m in sent if m["To"] == "carla@cimade-metz.example.org")
    body = carla_mail.get_content()
    assert "2 de vos dossiers" in carla_mail["Subject"]
    assert "MZ-101" in body
    assert "MZ-102" in body
    assert "MZ-201" not in body
    assert "16 avr. 2026 → 18 avr. 2026" in body
    assert "Décret n° 2026-123" in body
    assert "Amina" not in body
    assert "Applicant" not in body

    # The hook running again, and the periodic sweep, send nothing more.
    run = ReevaluationRun.objects.get(pack_version=draft)
    notify_caseworkers(run.pk)
    queue_notices(notices_to_queue(timezone.now() + dt.timedelta(hours=2)))
    assert len(notices(smtp_server)) == 2
    assert set(RecomputeNotice.objects.values_list("status", flat=True)) == {"sent"}
