from __future__ import annotations

from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from project.views import healthz

# The apps' pages and API. /healthz and /healthz/alerts are also answered before any host check
# by project.middleware.HealthCheckMiddleware.
app_urlpatterns: list[URLPattern | URLResolver] = [
    path("", include("rules.urls")),
    path("", include("cases.urls")),
    path("", include("notifications.urls")),
]

# JSON in English under /api/ (the API's rule), the site's page elsewhere.
handler404 = "project.views.not_found"

urlpatterns: list[URLPattern | URLResolver] = [
    path("admin/rules/workbench/", include("rules.admin_views.urls")),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its script as a file: the Content Security Policy allows no inline one.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    *app_urlpatterns,
]
