from __future__ import annotations

from django.apps import AppConfig


class RulesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "rules"
    verbose_name = "Procedure rules"

    def ready(self) -> None:
        from . import signals

        signals.connect()
