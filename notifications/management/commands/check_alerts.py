"""Exit 1 when the alerts are unhealthy (for cron, a container health check, monitoring)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from notifications.health import alert_health


class Command(BaseCommand):
    help = "Check that the alert planner runs and that due alerts go out; exit 1 if not."

    def handle(self, *args: Any, **options: Any) -> None:
        health = alert_health()
        self.stdout.write(json.dumps(health, indent=2))
        if health["status"] != "ok":
            raise CommandError("alerts unhealthy: " + "; ".join(health["problems"]))
