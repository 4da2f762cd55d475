"""Publishing for the cases side's tests, in one place.

`publish` does what rules.workbench.publish will do (retire the published version, publish this
one with a reason, call the after_publish hooks on commit); the integrator swaps it for the real
one. `draft_with_ofpra_days` is a draft whose OFPRA-submission limit is changed, the issue's
example of a law change.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from rules import workbench
from rules.models import DeadlineRuleVersion, PackVersion
from rules.packstore import copy_as_draft


def draft_with_ofpra_days(published: PackVersion, days: int) -> PackVersion:
    draft = copy_as_draft(published)
    version = DeadlineRuleVersion.objects.get(
        rule__pack_version=draft, rule__key="ofpra_submission", effective_from=dt.date(2021, 5, 1)
    )
    version.offset = days
    version.save()
    return draft


@transaction.atomic
def publish(version: PackVersion, *, reason: str, user: Any = None, hooks: bool = True) -> None:
    PackVersion.objects.filter(pack=version.pack, status=PackVersion.Status.PUBLISHED).exclude(
        pk=version.pk
    ).update(status=PackVersion.Status.RETIRED)
    version.status = PackVersion.Status.PUBLISHED
    version.publish_reason = reason
    version.published_by = user
    version.published_at = timezone.now()
    version.save()
    if hooks:
        version_id = version.pk
        for hook in workbench.after_publish:
            transaction.on_commit(lambda hook=hook: hook(version_id))  # type: ignore[misc]
