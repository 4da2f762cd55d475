"""Nothing forgotten: what legal staff still have to check, each item with where to fix it.

Rules marked unsure, packs whose review horizon has passed or whose verification is over a year
old, deadline rules no scenario covers, and pack texts a language has no translation for. Only
drafts and the published versions are reviewed (retired versions are history).
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import models
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from .engine.pack import PackError
from .engine.texts import untranslated
from .models import (
    DeadlineRule,
    DeadlineRuleVersion,
    LookupTableVersion,
    Milestone,
    OutcomeRule,
    PackVersion,
    Scenario,
    WarningRule,
)
from .packstore import definition

UNSURE = "unsure"
STALE = "stale"
UNCOVERED = "uncovered"
UNTRANSLATED = "untranslated"
VERIFIED_WITHIN = dt.timedelta(days=365)


@dataclass(frozen=True)
class ReviewItem:
    category: str
    pack_version: str
    text: str
    url: str


def _admin_url(model_name: str, pk: Any) -> str:
    try:
        return reverse(f"admin:rules_{model_name}_change", args=[pk])
    except NoReverseMatch:
        return ""


def reviewed_versions() -> models.QuerySet[PackVersion]:
    return PackVersion.objects.filter(
        status__in=[PackVersion.Status.DRAFT, PackVersion.Status.PUBLISHED]
    ).select_related("pack")


def review_items(today: dt.date | None = None) -> list[ReviewItem]:
    today = today or timezone.localdate()
    versions = list(reviewed_versions())
    ids = [v.pk for v in versions]
    names = {v.pk: str(v) for v in versions}
    items: list[ReviewItem] = []

    for version in versions:
        url = _admin_url("packversion", version.pk)
        if version.reviewed_until and version.reviewed_until < today:
            items.append(
                ReviewItem(
                    STALE,
                    names[version.pk],
                    _("The law was reviewed until %(day)s only: review it up to today.")
                    % {"day": version.reviewed_until.isoformat()},
                    url,
                )
            )
        if version.verified_on < today - VERIFIED_WITHIN:
            items.append(
                ReviewItem(
                    STALE,
                    names[version.pk],
                    _("Last verified against the law on %(day)s, over a year ago.")
                    % {"day": version.verified_on.isoformat()},
                    url,
                )
            )

    unsure: list[tuple[type[models.Model], str, str]] = [
        (DeadlineRuleVersion, "rule__pack_version_id", "deadlineruleversion"),
        (LookupTableVersion, "table__pack_version_id", "lookuptableversion"),
        (Milestone, "pack_version_id", "milestone"),
        (OutcomeRule, "outcome__pack_version_id", "outcome"),
        (WarningRule, "pack_version_id", "warningrule"),
    ]
    for model, path, admin_name in unsure:
        records = model._default_manager.filter(**{f"{path}__in": ids, "confidence": UNSURE})
        for record in records.order_by(path, "pk"):
            target = record.outcome_id if isinstance(record, OutcomeRule) else record.pk
            items.append(
                ReviewItem(
                    UNSURE,
                    names[_pack_version_id(record, path)],
                    _("%(record)s (version %(version)s) is marked unsure.")
                    % {"record": _name(record), "version": getattr(record, "version", "")},
                    _admin_url(admin_name, target),
                )
            )

    covered: dict[int, set[str]] = {}
    for scenario in Scenario.objects.filter(pack_id__in={v.pack_id for v in versions}):
        expect = scenario.expect if isinstance(scenario.expect, dict) else {}
        keys = covered.setdefault(scenario.pack_id, set())
        keys.update(k for k in expect.get("deadlines") or {} if isinstance(k, str))
        keys.update(k for k in expect.get("absent_deadlines") or [] if isinstance(k, str))
    try:
        scenario_url = reverse("admin:rules_scenario_add")
    except NoReverseMatch:
        scenario_url = ""
    pack_of = {v.pk: v.pack_id for v in versions}
    for rule in DeadlineRule.objects.filter(pack_version_id__in=ids).order_by(
        "pack_version_id", "position", "pk"
    ):
        if rule.key not in covered.get(pack_of[rule.pack_version_id], set()):
            items.append(
                ReviewItem(
                    UNCOVERED,
                    names[rule.pack_version_id],
                    _("No scenario checks the deadline %(key)s.") % {"key": rule.key},
                    scenario_url or _admin_url("deadlinerule", rule.pk),
                )
            )

    languages = [code for code, _name in settings.LANGUAGES if code != "en"]
    for version in versions:
        for language in languages:
            for path, text in _untranslated(version.pk, version.revision, language):
                items.append(
                    ReviewItem(
                        UNTRANSLATED,
                        names[version.pk],
                        _("No %(language)s translation for “%(text)s” (%(path)s).")
                        % {"language": language, "text": text, "path": path},
                        _admin_url("packversion", version.pk) + "#translations-group",
                    )
                )
    return items


@functools.lru_cache(maxsize=64)
def _untranslated(pk: int, revision: str, language: str) -> tuple[tuple[str, str], ...]:
    """Cached by revision: a pack version's texts change only with its revision."""
    version = PackVersion.objects.get(pk=pk)
    try:
        return tuple(untranslated(definition(version), language))
    except PackError:
        return ()  # an invalid draft: its errors are shown where it is edited


def _pack_version_id(record: Any, path: str) -> int:
    if isinstance(record, DeadlineRuleVersion):
        return int(record.rule.pack_version_id)
    if isinstance(record, LookupTableVersion):
        return int(record.table.pack_version_id)
    if isinstance(record, OutcomeRule):
        return int(record.outcome.pack_version_id)
    return int(getattr(record, path))


def _name(record: Any) -> str:
    if isinstance(record, DeadlineRuleVersion):
        return str(record.rule.key)
    if isinstance(record, LookupTableVersion):
        return str(record.table.key)
    if isinstance(record, OutcomeRule):
        return f"{record.outcome.key}: {record.name}"
    return str(record)
