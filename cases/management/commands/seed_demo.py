"""Fill a development database with a demo organisation, two people and a few cases.

Idempotent: people and cases that exist are left as they are. Every case and event is written
through cases/actions.py, as the app writes them. Dates are relative to today so that the
dashboard always shows something overdue, due today, this week and later.
"""

from __future__ import annotations

import datetime as dt
from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from cases import actions
from cases.models import Case, Membership, Organisation
from rules.models import RulePack
from rules.services import published_version, today

ORGANISATION = "Association Accueil et Droits (démo)"
PROCEDURE = "asylum-reexamination"
SECOND_CASEWORKER = ("camille", "Camille", "Roussel")

# (reference, name, department, language, phone, assigned to the second caseworker?, events as
# (type, days before today, outcome), new elements as (days before today, known days before))
DEMO_CASES: list[
    tuple[str, str, str, str, str, bool, list[tuple[str, int, str]], list[tuple[int, int | None]]]
] = [
    (
        "DEMO-2026-001",
        "Amina Diallo",
        "54",
        "fr",
        "+33612345678",
        False,
        [("final_rejection", 200, ""), ("prefecture_presentation", 8, ""), ("registration", 8, "")],
        [(60, 50)],
    ),
    (
        "DEMO-2026-002",
        "Tigran Petrosyan",
        "69",
        "en",
        "",
        False,
        [("final_rejection", 300, ""), ("prefecture_presentation", 2, "")],
        [(40, None)],
    ),
    (
        "DEMO-2026-003",
        "Farid Haidari",
        "93",
        "en",
        "+33758123456",
        True,
        [
            ("final_rejection", 400, ""),
            ("prefecture_presentation", 42, ""),
            ("registration", 40, ""),
            ("ofpra_submission", 36, ""),
            ("ofpra_admissibility_decision", 33, "admissible"),
            ("ofpra_decision", 25, "rejected"),
            ("decision_made_available", 20, ""),
        ],
        [(100, None)],
    ),
    (
        "DEMO-2026-004",
        "Grace Mbala",
        "67",
        "fr",
        "",
        True,
        [
            ("final_rejection", 500, ""),
            ("prefecture_presentation", 62, ""),
            ("registration", 60, ""),
            ("ofpra_submission", 55, ""),
            ("ofpra_admissibility_decision", 50, "admissible"),
            ("ofpra_decision", 40, "rejected"),
            ("decision_notified", 30, ""),
            ("legal_aid_requested", 25, ""),
        ],
        [(200, 150)],
    ),
    (
        "DEMO-2026-005",
        "Oksana Melnyk",
        "75",
        "en",
        "+447911123456",
        False,
        [("final_rejection", 150, ""), ("attestation_issued", 178, "")],
        [(30, None)],
    ),
    (
        "DEMO-2026-006",
        "Yonas Tesfaye",
        "2A",
        "en",
        "",
        True,
        [
            ("final_rejection", 90, ""),
            ("prefecture_presentation", 13, ""),
            ("registration", 12, ""),
        ],
        [],
    ),
]


class Command(BaseCommand):
    help = "Create a demo organisation, people and cases for local development (DEBUG only)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--username",
            default="demo",
            help="Existing user made the demo organisation's supervisor.",
        )
        parser.add_argument(
            "--password", default="demo", help="Password of the second (new) caseworker."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError(
                "seed_demo is for local development only: refused because DJANGO_DEBUG is false."
            )
        if published_version(PROCEDURE) is None:
            raise CommandError(f"No published {PROCEDURE} rule pack: run loadrulepack first.")
        user_model = get_user_model()
        supervisor = user_model._default_manager.filter(username=options["username"]).first()
        if supervisor is None:
            call_command("ensure_demo_user", username=options["username"])
            supervisor = user_model._default_manager.get(username=options["username"])
        with transaction.atomic():
            created = self.seed(supervisor, options["password"])
        self.stdout.write(
            f"Demo data ready ({created} new cases): sign in as "
            f"{options['username']} (supervisor) or {SECOND_CASEWORKER[0]} "
            f"(caseworker, password {options['password']})."
        )

    def seed(self, supervisor: Any, password: str) -> int:
        organisation, _ = Organisation.objects.get_or_create(name=ORGANISATION)
        # Staff alerts go by email: without an address each would fail ("no email address").
        # example.org is reserved for examples: nothing is ever delivered there.
        if not supervisor.email:
            supervisor.email = f"{supervisor.username}@example.org"
            supervisor.save(update_fields=["email"])
        Membership.objects.get_or_create(
            user=supervisor,
            defaults={"organisation": organisation, "role": Membership.Role.SUPERVISOR},
        )
        user_model = get_user_model()
        username, first, last = SECOND_CASEWORKER
        caseworker, new = user_model._default_manager.get_or_create(
            username=username,
            defaults={"first_name": first, "last_name": last, "email": f"{username}@example.org"},
        )
        if not caseworker.email:
            caseworker.email = f"{username}@example.org"
            caseworker.save(update_fields=["email"])
        if new:
            caseworker.set_password(password)
            caseworker.save()
        Membership.objects.get_or_create(
            user=caseworker,
            defaults={"organisation": organisation, "role": Membership.Role.CASEWORKER},
        )

        procedure = RulePack.objects.get(key=PROCEDURE)
        day = today()
        created = 0
        for reference, name, department, language, phone, second, events, elements in DEMO_CASES:
            if Case.objects.filter(organisation=organisation, reference=reference).exists():
                continue
            assigned = caseworker if second else supervisor
            case = actions.create_case(
                organisation=organisation,
                user=assigned,
                reason="demo data",
                reference=reference,
                applicant_name=name,
                department=department,
                preferred_language=language,
                phone=phone,
                sms_consent=bool(phone),
                assigned_to=assigned,
                procedure=procedure,
            )
            for arose, known in elements:
                actions.add_new_element(
                    case,
                    user=assigned,
                    reason="demo data",
                    date=day - dt.timedelta(days=arose),
                    known_on=day - dt.timedelta(days=known) if known is not None else None,
                    description="Pièce nouvelle (démo)",
                )
            for event_type, days_ago, outcome in events:
                actions.record_event(
                    case,
                    user=assigned,
                    reason="demo data",
                    type=event_type,
                    date=day - dt.timedelta(days=days_ago),
                    outcome=outcome,
                )
            created += 1
        return created
