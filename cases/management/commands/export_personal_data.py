"""Print, as JSON, everything stored about the applicant of one case (a subject access request)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cases.models import Case
from cases.privacy import personal_data, record_views


class Command(BaseCommand):
    help = "Print everything stored about the applicant of a case, as JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("case_id", type=int, help="The case's id (in its page's address).")

    def handle(self, *args: Any, case_id: int, **options: Any) -> None:
        case = Case.objects.select_related("organisation", "procedure", "assigned_to").filter(
            pk=case_id
        )
        found = case.first()
        if found is None:
            raise CommandError(f"no case with id {case_id}")
        record_views(None, [found.pk], "data_export")
        self.stdout.write(json.dumps(personal_data(found), ensure_ascii=False, indent=2))
