"""The review page: everything legal staff still have to check, with where to fix it."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from ..review import STALE, UNCOVERED, UNSURE, UNTRANSLATED, review_items
from . import admin_page, require


def review_page(request: HttpRequest) -> HttpResponse:
    require(request, "rules.view_packversion")
    items = review_items()
    titles = {
        UNSURE: _("Rules marked unsure"),
        STALE: _("Packs to review again"),
        UNCOVERED: _("Deadline rules no scenario covers"),
        UNTRANSLATED: _("Texts without a translation"),
    }
    groups = [
        (category, title, [item for item in items if item.category == category])
        for category, title in titles.items()
    ]
    return admin_page(
        request,
        "admin/rules/workbench/review.html",
        _("Nothing forgotten: what to review"),
        groups=groups,
        total=len(items),
    )
