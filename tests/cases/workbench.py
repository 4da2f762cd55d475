"""Publishing for the cases side's tests, in one place.

`publish` goes through `rules.workbench.publish` (four eyes, scenarios, the after_publish hooks
on commit), as a publisher with the permission; `hooks=False` publishes without starting the
re-evaluation, so that a test can run it step by step. `draft_with_ofpra_days` is a draft whose
OFPRA-submission limit is changed, the issue's example of a law change.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.models import Permission, User

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


def publish(
    version: PackVersion, *, reason: str, user: Any = None, hooks: bool = True
) -> PackVersion:
    if user is None:
        user, _ = User.objects.get_or_create(username="publisher")
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="rules", codename="publish_packversion")
    )
    user = User.objects.get(pk=user.pk)  # permissions are cached on the instance
    hooks_before = list(workbench.after_publish)
    if not hooks:
        workbench.after_publish.clear()
    try:
        return workbench.publish(version, user=user, reason=reason)
    finally:
        workbench.after_publish[:] = hooks_before
