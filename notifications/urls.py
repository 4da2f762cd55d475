from __future__ import annotations

from django.urls import path, re_path

from . import views

app_name = "notifications"

urlpatterns = [
    path("healthz/alerts", views.alerts_health, name="health"),
    path("alerts/", views.alert_list, name="list"),
    path("alerts/<int:pk>/acknowledge/", views.acknowledge_alert, name="acknowledge"),
    # Secret tokens are URL-safe base64: anything else (a NUL byte...) is a 404, never a query.
    re_path(r"^alerts/ack/(?P<token>[A-Za-z0-9_-]{1,64})/$", views.acknowledge_by_link, name="ack"),
]
