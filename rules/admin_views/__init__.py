"""Workbench pages in the admin (history, review, pack files); the logic lives in rules/."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.template.response import TemplateResponse


def admin_page(request: HttpRequest, template: str, title: str, **context: Any) -> TemplateResponse:
    """An admin-styled page (site header, user links, the review banner)."""
    return TemplateResponse(
        request, template, {**admin.site.each_context(request), "title": title, **context}
    )


def require(request: HttpRequest, *permissions: str) -> None:
    if not all(request.user.has_perm(p) for p in permissions):
        raise PermissionDenied
