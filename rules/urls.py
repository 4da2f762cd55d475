from __future__ import annotations

from django.urls import path

from . import api

urlpatterns = [
    path("api/v1/evaluate", api.EvaluateView.as_view(), name="api-evaluate"),
    path("api/v1/packs", api.PackListView.as_view(), name="api-packs"),
    path("api/v1/packs/<str:key>", api.PackDetailView.as_view(), name="api-pack"),
]
