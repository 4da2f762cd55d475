"""Create an organisation (an association, a legal clinic): its members see its cases only."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from cases.models import Organisation


class Command(BaseCommand):
    help = "Create an organisation. Then add its people with `manage.py add_member`."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("name", help='Its name, e.g. "Cimade Metz" (unique).')

    def handle(self, *args: Any, **options: Any) -> None:
        name = " ".join(str(options["name"]).split())
        max_length = Organisation._meta.get_field("name").max_length or 200
        if not name:
            raise CommandError("the organisation's name is empty")
        if len(name) > max_length:
            raise CommandError(f"the organisation's name is longer than {max_length} characters")
        if Organisation.objects.filter(name__iexact=name).exists():
            raise CommandError(f"an organisation named {name!r} already exists")
        organisation = Organisation.objects.create(name=name)
        self.stdout.write(
            f"Created organisation {organisation.name!r} (id {organisation.pk}). Add its people "
            f"with: manage.py add_member USERNAME --organisation {organisation.name!r} "
            "--role caseworker|supervisor --email ADDRESS"
        )
