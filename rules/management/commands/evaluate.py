"""Evaluate a case file (or stdin) and print exactly what POST /api/v1/evaluate returns."""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from rules.engine.inputs import InputError
from rules.services import PackUnavailable, evaluate_request

MAX_BYTES = 1_000_000


class Command(BaseCommand):
    help = "Evaluate a case (JSON as in the API, from FILE or - for stdin) and print the result."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="a JSON file, or - to read standard input")

    def fail(self, errors: list[dict[str, str]], code: int = 1) -> None:
        self.stderr.write(json.dumps({"errors": errors}, ensure_ascii=False, indent=2))
        sys.exit(code)

    def handle(self, *args: Any, **options: Any) -> None:
        name = options["file"]
        try:
            if name == "-":
                raw = sys.stdin.buffer.read(MAX_BYTES + 1)
            else:
                with open(name, "rb") as handle:
                    raw = handle.read(MAX_BYTES + 1)
        except OSError as error:
            self.fail([{"field": "", "message": f"{name}: {error.strerror}"}])
            return
        if len(raw) > MAX_BYTES:
            self.fail([{"field": "", "message": "request body larger than 1 MB"}])
        try:
            payload = json.loads(raw)
        except (ValueError, RecursionError):
            self.fail([{"field": "", "message": "not valid JSON"}])
        try:
            result = evaluate_request(payload)
        except InputError as error:
            self.fail(error.errors)
            return
        except PackUnavailable as error:
            self.fail([{"field": "procedure", "message": str(error)}], 3)
            return
        self.stdout.write(json.dumps(result, ensure_ascii=False, indent=2))
