from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path, re_path

from .views import cases, dashboard, events, exports, feeds, twofactor

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/two-factor/", twofactor.two_factor, name="two-factor"),
    path("cases/", cases.case_list, name="case-list"),
    path("cases/new/", cases.case_create, name="case-create"),
    path("cases/<int:pk>/", cases.case_detail, name="case-detail"),
    path("cases/<int:pk>/edit/", cases.case_edit, name="case-edit"),
    path("cases/<int:pk>/scenario/", cases.case_save_scenario, name="case-save-scenario"),
    path("cases/<int:pk>/views/", cases.case_views, name="case-views"),
    path("cases/<int:pk>/personal-data.json", cases.case_personal_data, name="case-personal-data"),
    path("cases/<int:pk>/events/new/", events.event_create, name="event-create"),
    path("cases/<int:pk>/events/<int:event_pk>/edit/", events.event_edit, name="event-edit"),
    path("cases/<int:pk>/events/<int:event_pk>/delete/", events.event_delete, name="event-delete"),
    path("cases/<int:pk>/elements/new/", events.element_create, name="element-create"),
    path(
        "cases/<int:pk>/elements/<int:element_pk>/edit/", events.element_edit, name="element-edit"
    ),
    path(
        "cases/<int:pk>/elements/<int:element_pk>/delete/",
        events.element_delete,
        name="element-delete",
    ),
    path("export/deadlines.csv", exports.deadlines_csv, name="deadlines-csv"),
    path("calendar/", feeds.calendar_settings, name="calendar-settings"),
    path("calendar/rotate/", feeds.rotate_calendar_link, name="calendar-rotate"),
    # Secret tokens are URL-safe base64: anything else (a NUL byte...) is a 404, never a query.
    re_path(
        r"^feeds/(?P<token>[A-Za-z0-9_-]{1,64})\.ics$", feeds.calendar_feed, name="calendar-feed"
    ),
]
