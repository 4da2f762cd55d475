"""The admin pages of the workbench's cases side: a draft's impact, and re-evaluations.

Legal staff start and read impact runs and follow re-evaluations here. They see a case's file
reference and organisation, never the applicant: these pages show no name, phone or email.
The impact page of a pack version has a stable URL the rules admin links to:
reverse("admin:cases_impactrun_for_version", args=[pack_version_id]).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from rules.models import PackVersion

from . import impact
from .models import ImpactRun, ReevaluationChunk, ReevaluationRun
from .views.exports import write_rows


def _progress(done: int, total: int) -> str:
    return f"{done} / {total}"


@admin.register(ImpactRun)
class ImpactRunAdmin(admin.ModelAdmin):
    list_display = ["pack_version", "state", "progress", "changed_cases", "created_at"]
    list_filter = ["state"]
    list_select_related = ["pack_version__pack"]

    @admin.display(description="progress")
    def progress(self, run: ImpactRun) -> str:
        return _progress(run.done_cases, run.total_cases)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # started from a pack version's impact page

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)

    def get_urls(self) -> list[URLPattern]:
        own = [
            path(
                "version/<int:version_id>/",
                self.admin_site.admin_view(self.for_version),
                name="cases_impactrun_for_version",
            ),
            path(
                "<int:run_id>/csv/",
                self.admin_site.admin_view(self.csv),
                name="cases_impactrun_csv",
            ),
        ]
        return own + super().get_urls()

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        run = get_object_or_404(ImpactRun, pk=object_id)
        return self.render_page(request, run.pack_version, run)

    def for_version(self, request: HttpRequest, version_id: int) -> HttpResponse:
        """The impact page of a pack version: its latest run, and a button to start one."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        version = get_object_or_404(PackVersion.objects.select_related("pack"), pk=version_id)
        if request.method == "POST":
            if not request.user.has_perm("cases.add_impactrun"):
                raise PermissionDenied
            if version.status != PackVersion.Status.DRAFT:
                messages.error(request, "Only a draft's impact can be computed.")
            else:
                run = impact.start_impact(version.pk, user=request.user)
                messages.success(request, f"Comparing {run.total_cases} open cases with the draft.")
            return HttpResponseRedirect(request.path)
        latest = version.impact_runs.order_by("-created_at", "-id").first()
        return self.render_page(request, version, latest)

    def render_page(
        self, request: HttpRequest, version: PackVersion, run: ImpactRun | None
    ) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Impact of {version.pack.key} v{version.number} on open cases",
            "version": version,
            "run": run,
            "outdated": run is not None and run.revision != version.revision,
            "can_start": request.user.has_perm("cases.add_impactrun")
            and version.status == PackVersion.Status.DRAFT,
            "by_rule": impact.counts_by_rule(run) if run else [],
            "changes": list(impact.changes_of(run)[:1000]) if run else [],
            "start_url": reverse("admin:cases_impactrun_for_version", args=[version.pk]),
            "csv_url": reverse("admin:cases_impactrun_csv", args=[run.pk]) if run else "",
        }
        return TemplateResponse(request, "admin/cases/impactrun/detail.html", context)

    def csv(self, request: HttpRequest, run_id: int) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        run = ImpactRun.objects.filter(pk=run_id).select_related("pack_version__pack").first()
        if run is None:
            raise Http404
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        name = f"impact-{run.pack_version.pack.key}-v{run.pack_version.number}-{run.pk}.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        header = [
            "organisation",
            "file reference",
            "kind",
            "rule",
            "label",
            "old due",
            "new due",
            "old",
            "new",
        ]
        write_rows(
            response,
            header,
            (
                [
                    c.case.organisation.name,
                    c.case.reference,
                    c.kind,
                    c.key,
                    c.label,
                    c.old_due.isoformat() if c.old_due else "",
                    c.new_due.isoformat() if c.new_due else "",
                    c.old_value,
                    c.new_value,
                ]
                for c in impact.changes_of(run).iterator(chunk_size=1000)
            ),
        )
        return response


class ChunkInline(admin.TabularInline):
    model = ReevaluationChunk
    fields = ["number", "size", "attempts", "lease_until", "applied_at", "errors"]
    readonly_fields = ["number", "size", "attempts", "lease_until", "applied_at", "errors"]
    extra = 0
    can_delete = False

    @admin.display(description="cases")
    def size(self, chunk: ReevaluationChunk) -> int:
        return len(chunk.case_ids)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ReevaluationRun)
class ReevaluationRunAdmin(admin.ModelAdmin):
    list_display = [
        "pack_version",
        "state",
        "progress",
        "changed_cases",
        "failed_cases",
        "created_at",
        "finished_at",
    ]
    list_filter = ["state"]
    list_select_related = ["pack_version__pack"]
    fields = [
        "pack_version",
        "reason",
        "state",
        "progress",
        "changed_cases",
        "failed_cases",
        "created_at",
        "finished_at",
    ]
    readonly_fields = [
        "pack_version",
        "reason",
        "state",
        "progress",
        "changed_cases",
        "failed_cases",
        "created_at",
        "finished_at",
    ]
    inlines = [ChunkInline]

    @admin.display(description="progress")
    def progress(self, run: ReevaluationRun) -> str:
        percent = 100 * run.done_cases // run.total_cases if run.total_cases else 100
        return format_html(
            '<progress max="100" value="{}"></progress> {}',
            percent,
            _progress(run.done_cases, run.total_cases),
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
