"""Support tools for organisations, their members and their cases: least privilege first.

A superuser sees everything. Anyone else with admin access sees only their own organisation's
records, whatever their model permissions say; legal staff (rules only) get no case permission.
Cases are opened and their facts recorded in the caseworkers' app, where every write is
re-evaluated: here a case's facts are read-only, and a change goes through cases/actions.py.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from . import actions
from .access import membership_of
from .models import Case, CaseEvent, CaseView, Deadline, Membership, NewElement, Organisation


def organisation_id_of(request: HttpRequest) -> int | None:
    membership = membership_of(request.user)
    return membership.organisation_id if membership else None


class OrganisationScoped:
    """Limits a model admin's queryset to the user's organisation (superusers see all)."""

    organisation_path = "organisation_id"

    def scope(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if request.user.is_superuser:
            return queryset
        organisation_id = organisation_id_of(request)
        if organisation_id is None:
            return queryset.none()
        return queryset.filter(**{self.organisation_path: organisation_id})


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class EventInline(ReadOnlyInline):
    model = CaseEvent
    fields = ("date", "type", "outcome", "note")
    readonly_fields = fields


class NewElementInline(ReadOnlyInline):
    model = NewElement
    fields = ("date", "known_on", "description")
    readonly_fields = fields


class DeadlineInline(ReadOnlyInline):
    model = Deadline
    fields = (
        "label",
        "due",
        "status",
        "non_working_day",
        "legal_basis",
        "rule_version",
    )
    readonly_fields = fields


@admin.register(Organisation)
class OrganisationAdmin(OrganisationScoped, SimpleHistoryAdmin):
    organisation_path = "pk"
    list_display = ["name", "created_at"]
    search_fields = ["name"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Organisation]:
        return self.scope(request, super().get_queryset(request))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)


@admin.register(Membership)
class MembershipAdmin(OrganisationScoped, SimpleHistoryAdmin):
    list_display = ["user", "organisation", "role"]
    list_filter = ["role"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    # The calendar feed token is a secret: never shown, renewed by its owner in the app.
    exclude = ["feed_token"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Membership]:
        return self.scope(request, super().get_queryset(request)).select_related(
            "user", "organisation"
        )

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "organisation" and not request.user.is_superuser:
            organisation_id = organisation_id_of(request)
            kwargs["queryset"] = (
                Organisation.objects.filter(pk=organisation_id)
                if organisation_id is not None
                else Organisation.objects.none()
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Case)
class CaseAdmin(OrganisationScoped, SimpleHistoryAdmin):
    list_display = [
        "reference",
        "applicant_name",
        "department",
        "assigned_to",
        "state",
        "organisation",
    ]
    list_filter = ["state"]
    search_fields = ["reference", "applicant_name"]
    list_select_related = ["assigned_to", "organisation"]
    fields = [
        "organisation",
        "reference",
        "applicant_name",
        "procedure",
        "department",
        "previous_reexaminations",
        "preferred_language",
        "phone",
        "sms_consent",
        "email",
        "email_consent",
        "assigned_to",
        "state",
    ]
    # Facts that change deadlines are recorded in the app, which validates them first.
    readonly_fields = ["organisation", "procedure", "department", "previous_reexaminations"]
    inlines = [EventInline, NewElementInline, DeadlineInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Case]:
        return self.scope(request, super().get_queryset(request))

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Cases are opened in the app, where the department is checked against the procedure.
        return False

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "assigned_to":
            # Only the organisation's members; the case's organisation for a superuser too.
            object_id = (
                request.resolver_match.kwargs.get("object_id") if request.resolver_match else None
            )
            organisation_id = (
                Case.objects.filter(pk=object_id).values_list("organisation_id", flat=True).first()
                if object_id and str(object_id).isdigit()
                else organisation_id_of(request)
            )
            members = get_user_model()._default_manager.all()
            kwargs["queryset"] = (
                members.filter(membership__organisation_id=organisation_id)
                if organisation_id is not None
                else members.none()
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Model, form: Any, change: bool) -> None:
        assert isinstance(obj, Case)
        changes = {
            name: form.cleaned_data[name]
            for name in form.changed_data
            if name in actions.CASE_FIELDS
        }
        stored = Case.objects.get(pk=obj.pk)
        actions.update_case(stored, user=request.user, reason="changed in the admin", **changes)


@admin.register(CaseView)
class CaseViewAdmin(OrganisationScoped, admin.ModelAdmin):
    """The audit trail of who viewed which case: read only, never edited."""

    organisation_path = "case__organisation_id"
    list_display = ("at", "case", "user", "through")
    list_filter = ("through",)
    list_select_related = ("case", "user")
    date_hierarchy = "at"

    def get_queryset(self, request: HttpRequest) -> QuerySet[CaseView]:
        return self.scope(request, super().get_queryset(request))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


from . import admin_runs  # noqa: E402,F401  (impact and re-evaluation pages)
