"""Add a person: a caseworker or supervisor of an organisation, or legal staff (rules only).

Caseworkers and supervisors are memberships (they see their organisation's cases, nothing
else); legal staff are the "legal staff" group (they edit rules in the admin and see no case).
The first administrator is `manage.py createsuperuser`.

The password is never an argument (it would stay in the shell history and the process list):
it is asked for twice on a terminal, read from standard input with --password-stdin, or left
unset (--no-password) for the person to receive one later (`manage.py changepassword`).
"""

from __future__ import annotations

import getpass
import sys
from argparse import ArgumentParser
from typing import Any

from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.db import transaction

from cases.models import Membership, Organisation
from cases.roles import LEGAL_STAFF

ROLES = ("caseworker", "supervisor", "legal-staff")


class Command(BaseCommand):
    help = (
        "Add a person with a role: caseworker or supervisor of an organisation "
        "(--organisation), or legal staff (rules, no cases). Creates the account if needed."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=ROLES)
        parser.add_argument(
            "--organisation", help="Name of the organisation (caseworker and supervisor)."
        )
        parser.add_argument(
            "--email", help="Their address: deadline alerts go there (required for staff alerts)."
        )
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")
        password = parser.add_mutually_exclusive_group()
        password.add_argument(
            "--password-stdin", action="store_true", help="Read the password from standard input."
        )
        password.add_argument(
            "--no-password",
            action="store_true",
            help="Leave a new account without a password (set it later with changepassword).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        role: str = options["role"]
        username: str = options["username"].strip()
        if not username:
            raise CommandError("the username is empty")
        email = (options["email"] or "").strip()
        if email:
            try:
                validate_email(email)
            except ValidationError:
                raise CommandError(f"--email: {email!r} is not an email address") from None

        organisation: Organisation | None = None
        if role == "legal-staff":
            if options["organisation"]:
                raise CommandError(
                    "--organisation: legal staff belong to no organisation (they see no case)"
                )
        else:
            if not options["organisation"]:
                raise CommandError(f"--organisation is required for a {role}")
            organisation = Organisation.objects.filter(
                name__iexact=" ".join(options["organisation"].split())
            ).first()
            if organisation is None:
                raise CommandError(
                    f"--organisation: no organisation named {options['organisation']!r} "
                    "(create it with manage.py create_organisation)"
                )

        user_model = get_user_model()
        user = user_model._default_manager.filter(username=username).first()
        if user is None and role != "legal-staff" and not email:
            raise CommandError(f"--email is required for a new {role}: alerts are sent there")
        if user is not None and organisation is not None:
            current = Membership.objects.filter(user=user).select_related("organisation").first()
            if current is not None and current.organisation_id != organisation.pk:
                raise CommandError(
                    f"{username} is already a member of another organisation "
                    f"({current.organisation.name!r}); a person belongs to one organisation"
                )

        password = self.password(options, new=user is None, username=username, email=email)

        with transaction.atomic():
            created = user is None
            if user is None:
                user = user_model(username=username)
            if email:
                user.email = email
            if options["first_name"]:
                user.first_name = options["first_name"]
            if options["last_name"]:
                user.last_name = options["last_name"]
            user.is_active = True
            if password is not None:
                user.set_password(password)
            elif created:
                user.set_unusable_password()
            if role == "legal-staff":
                user.is_staff = True  # the admin is where rules are edited
            user.save()
            if role == "legal-staff":
                group, _ = Group.objects.get_or_create(name=LEGAL_STAFF)
                user.groups.add(group)
            else:
                assert organisation is not None
                Membership.objects.update_or_create(
                    user=user, defaults={"organisation": organisation, "role": role}
                )

        where = f" of {organisation.name!r}" if organisation else ""
        self.stdout.write(
            f"{'Created' if created else 'Updated'} {username}: {role}{where}"
            + (
                ""
                if password is not None or not created
                else f". No password yet: set one with manage.py changepassword {username}"
            )
        )

    def password(
        self, options: dict[str, Any], *, new: bool, username: str, email: str
    ) -> str | None:
        if options["no_password"]:
            return None
        if options["password_stdin"]:
            password = sys.stdin.readline().rstrip("\n")
            if not password:
                raise CommandError("--password-stdin: standard input held no password")
        elif new and sys.stdin.isatty():
            password = getpass.getpass(f"Password for {username}: ")
            if password != getpass.getpass("Password (again): "):
                raise CommandError("the two passwords differ")
        else:
            return None
        user_model = get_user_model()
        try:
            password_validation.validate_password(
                password, user_model(username=username, email=email)
            )
        except ValidationError as error:
            raise CommandError("password refused: " + " ".join(error.messages)) from None
        return password
