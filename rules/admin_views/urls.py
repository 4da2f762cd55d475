"""Included under admin/rules/workbench/ (project/urls.py); every page needs a staff login."""

from __future__ import annotations

from django.contrib import admin
from django.urls import path

from . import files, history, review

app_name = "rules_workbench"

urlpatterns = [
    path(
        "history/<str:kind>/<int:pk>/",
        admin.site.admin_view(history.rule_history),
        name="history",
    ),
    path("packs/<int:pk>/as-of/", admin.site.admin_view(history.pack_as_of), name="as_of"),
    path("review/", admin.site.admin_view(review.review_page), name="review"),
    path("import/", admin.site.admin_view(files.import_pack), name="import"),
    path("export/<int:pk>/", admin.site.admin_view(files.export_pack), name="export"),
]
