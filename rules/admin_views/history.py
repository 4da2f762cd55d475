"""A rule's time line, two versions compared, its change log; a pack as it stood on a day."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.admin import SimpleHistoryAdmin

from ..engine.pack import PackError, dump_pack, parse_pack
from ..history import (
    KINDS,
    Version,
    change_log,
    compare,
    end_of_day,
    pack_dict_as_of,
    publications,
    published_on,
    subject,
)
from ..models import Milestone, RulePack, WarningRule
from ..pack_files import pack_file_text
from . import admin_page, require


def _chosen(
    request: HttpRequest, name: str, versions: list[Version], default: int
) -> Version | None:
    wanted = request.GET.get(name, "")
    for version in versions:
        if str(version.pk) == wanted:
            return version
    return versions[default] if versions else None


def rule_history(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    require(request, "rules.view_packversion")
    if kind not in KINDS:
        raise Http404
    try:
        found = subject(kind, pk)
    except ObjectDoesNotExist as error:
        raise Http404 from error
    versions = found.versions
    old = _chosen(request, "a", versions, max(len(versions) - 2, 0))
    new = _chosen(request, "b", versions, len(versions) - 1)
    differences = compare(old, new) if old is not None and new is not None else []
    return admin_page(
        request,
        "admin/rules/workbench/rule_history.html",
        _("History of %(rule)s") % {"rule": found.label},
        subject=found,
        old=old,
        new=new,
        differences=differences,
        changes=change_log(found),
        admin_url_name=f"admin:rules_{kind}_change",
    )


def pack_as_of(request: HttpRequest, pk: int) -> HttpResponse:
    require(request, "rules.view_packversion")
    pack = get_object_or_404(RulePack, pk=pk)
    day = timezone.localdate()
    error = ""
    if request.GET.get("date"):
        try:
            day = dt.date.fromisoformat(request.GET["date"])
        except ValueError:
            error = _("Enter a date as YYYY-MM-DD.")
    version = published_on(pack, day) if not error else None
    text = ""
    if version is not None:
        data = pack_dict_as_of(version, end_of_day(day))
        try:
            text = pack_file_text(dump_pack(parse_pack(data)))
        except PackError as invalid:
            error = _("The pack as it stood then is not valid: %(error)s") % {"error": invalid}
            text = pack_file_text(data)
        if request.GET.get("download") and not error:
            response = HttpResponse(text, content_type="application/json; charset=utf-8")
            name = f"{pack.key}-v{version.number}-{day.isoformat()}.json"
            response["Content-Disposition"] = f'attachment; filename="{name}"'
            return response
    return admin_page(
        request,
        "admin/rules/workbench/pack_as_of.html",
        _("%(pack)s as it stood on a day") % {"pack": pack.key},
        pack=pack,
        day=day,
        version=version,
        text=text,
        error=error,
        publications=publications(pack),
    )


class RuleHistoryAdmin(SimpleHistoryAdmin):
    """The admin's History page, with the changes made to a rule's versions in the same save.

    A deadline rule's (lookup table's, outcome's) own record rarely changes: its versions do.
    Each history row of the rule also lists what the same person changed in its versions,
    alerts or rows, for the same reason, before the rule's next change.
    """

    def set_history_delta_changes(
        self, request: HttpRequest, historical_records: Any, foreign_keys_are_objs: bool = True
    ) -> None:
        super().set_history_delta_changes(request, historical_records, foreign_keys_are_objs)
        records = list(historical_records)
        kind = self.model._meta.model_name
        if not records or kind not in KINDS or KINDS[kind] in (WarningRule, Milestone):
            return
        try:
            found = subject(kind, records[0].id)
        except ObjectDoesNotExist:
            return
        children = [c for c in change_log(found) if c.record != found.label]
        newer: Any = None
        for record in records:  # newest first
            window = [
                c
                for c in children
                if c.when >= record.history_date
                and (newer is None or c.when < newer.history_date)
                and c.user == record.history_user
                and c.reason == (record.history_change_reason or "")
            ]
            extra = []
            for change in sorted(window, key=lambda c: c.when):
                if change.kind == "+":
                    extra.append({"field": change.record, "old": "", "new": _("created")})
                elif change.kind == "-":
                    extra.append({"field": change.record, "old": "", "new": _("deleted")})
                else:
                    extra += [
                        {"field": f"{change.record}: {name}", "old": old, "new": new}
                        for name, old, new in change.changes
                    ]
            if extra:
                record.history_delta_changes = [
                    *(getattr(record, "history_delta_changes", None) or []),
                    *extra,
                ]
            newer = record
