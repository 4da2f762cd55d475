"""Create (or reset) the local demo superuser that `make run` prints."""

from __future__ import annotations

import os
from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

DEFAULT_USERNAME = "demo"
# A fixed password so that a browser's saved login survives every `make run`. The command
# refuses to run outside DEBUG, and `make run` serves on 127.0.0.1 only.
DEFAULT_PASSWORD = "demo"


class Command(BaseCommand):
    help = "Create or reset the demo superuser for local development (refused unless DEBUG)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--username", default=DEFAULT_USERNAME)
        parser.add_argument(
            "--password",
            default=None,
            help="Default: $DJANGO_DEMO_PASSWORD, else 'demo'.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError(
                "ensure_demo_user is for local development only: refused because "
                "DJANGO_DEBUG is false."
            )
        username: str = options["username"]
        password: str = (
            options["password"] or os.environ.get("DJANGO_DEMO_PASSWORD") or DEFAULT_PASSWORD
        )
        user_model = get_user_model()
        lookup: dict[str, Any] = {user_model.USERNAME_FIELD: username}
        user, created = user_model._default_manager.get_or_create(**lookup)
        user.is_active = True
        user.is_staff = True
        user.is_superuser = True
        user.set_password(password)
        user.save()
        verb = "Created" if created else "Reset"
        self.stdout.write(f"{verb} demo superuser: username={username} password={password}")
