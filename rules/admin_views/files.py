"""Import a pack file (dry run first, then a new draft) and export any pack version."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..engine.pack import PackError
from ..models import PackVersion
from ..pack_files import PackFileError, export_text, import_as_draft, preview_import
from . import admin_page, require


class UploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Pack file (JSON)"))


class ConfirmForm(forms.Form):
    content = forms.CharField(widget=forms.HiddenInput)
    reason = forms.CharField(
        max_length=100,
        label=gettext_lazy("Reason for the import"),
        help_text=gettext_lazy("Kept in the history of every record the import creates."),
        widget=forms.TextInput(attrs={"size": 80}),
    )


def import_pack(request: HttpRequest) -> HttpResponse:
    require(request, "rules.add_packversion")
    title = _("Import a pack file")
    if request.method != "POST":
        return admin_page(request, "admin/rules/workbench/import.html", title, form=UploadForm())
    if "confirm" in request.POST:
        confirm = ConfirmForm(request.POST)
        if confirm.is_valid():
            try:
                draft = import_as_draft(
                    confirm.cleaned_data["content"],
                    user=request.user,
                    reason=confirm.cleaned_data["reason"],
                )
            except (PackFileError, PackError) as error:
                problems = getattr(error, "problems", None) or [(None, None, str(error))]
                return admin_page(
                    request,
                    "admin/rules/workbench/import.html",
                    title,
                    form=UploadForm(),
                    problems=problems,
                )
            messages.success(
                request, _("Imported as the draft %(version)s.") % {"version": str(draft)}
            )
            return HttpResponseRedirect(reverse("admin:rules_packversion_change", args=[draft.pk]))
        content = request.POST.get("content", "")
    else:
        upload = UploadForm(request.POST, request.FILES)
        if not upload.is_valid():
            return admin_page(request, "admin/rules/workbench/import.html", title, form=upload)
        content = upload.cleaned_data["file"].read()
        confirm = ConfirmForm()
    try:
        preview = preview_import(content)
    except PackFileError as error:
        return admin_page(
            request,
            "admin/rules/workbench/import.html",
            title,
            form=UploadForm(),
            problems=error.problems,
        )
    text = content.decode("utf-8-sig") if isinstance(content, bytes) else content
    if not confirm.is_bound:
        confirm = ConfirmForm(initial={"content": text})
    return admin_page(
        request,
        "admin/rules/workbench/import.html",
        title,
        preview=preview,
        confirm=confirm,
    )


def export_pack(request: HttpRequest, pk: int) -> HttpResponse:
    require(request, "rules.view_packversion")
    version = get_object_or_404(PackVersion.objects.select_related("pack"), pk=pk)
    try:
        text = export_text(version)
    except PackError as error:
        messages.error(
            request,
            _("%(version)s is invalid and cannot be exported: %(error)s")
            % {"version": str(version), "error": error},
        )
        return HttpResponseRedirect(reverse("admin:rules_packversion_change", args=[pk]))
    response = HttpResponse(text.encode("utf-8"), content_type="application/json; charset=utf-8")
    name = f"{version.pack.key}-v{version.number}.json"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
