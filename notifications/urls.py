from __future__ import annotations

from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("healthz/alerts", views.alerts_health, name="health"),
    path("alerts/", views.alert_list, name="list"),
    path("alerts/<int:pk>/acknowledge/", views.acknowledge_alert, name="acknowledge"),
    path("alerts/ack/<str:token>/", views.acknowledge_by_link, name="ack"),
]
