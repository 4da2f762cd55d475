from __future__ import annotations

from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from project.views import healthz

# Each app's URLconf is included here once the app has a urls.py, for example:
#     path("", include("rules.urls")),
#     path("", include("cases.urls")),
#     path("", include("notifications.urls")),
app_urlpatterns: list[URLPattern | URLResolver] = [
    path("", include("rules.urls")),
    path("", include("cases.urls")),
    path("", include("notifications.urls")),
]

urlpatterns: list[URLPattern | URLResolver] = [
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its script as a file: the Content Security Policy allows no inline one.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    *app_urlpatterns,
]
