from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CasesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "cases"
    verbose_name = "Cases"

    def ready(self) -> None:
        from .privacy import ensure_anonymisation_schedule
        from .roles import ensure_groups

        post_migrate.connect(ensure_groups, sender=self, dispatch_uid="cases-ensure-groups")
        post_migrate.connect(
            ensure_anonymisation_schedule, sender=self, dispatch_uid="cases-anonymisation-beat"
        )
