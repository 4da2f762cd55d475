"""Every change to a pack version's records gives it a new revision, which compiled rules follow."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from simple_history.signals import pre_create_historical_record

from .change_reasons import stamp
from .models import RECORD_MODELS, PackRecord, PackVersion
from .packstore import bump_revision


def _changed(sender: type, instance: Any, **kwargs: Any) -> None:
    if kwargs.get("raw"):
        return
    if isinstance(instance, PackVersion):
        if kwargs.get("update_fields") and set(kwargs["update_fields"]) <= {"published_at"}:
            return
        bump_revision(instance.pk)
    elif isinstance(instance, PackRecord):
        bump_revision(instance.pack_version_id_for_revision())


def connect() -> None:
    for model in RECORD_MODELS:
        post_save.connect(
            _changed, sender=model, dispatch_uid=f"rules-revision-save-{model.__name__}"
        )
        post_delete.connect(
            _changed, sender=model, dispatch_uid=f"rules-revision-delete-{model.__name__}"
        )
    pre_create_historical_record.connect(stamp, dispatch_uid="rules-change-reason")
