"""Roles as Django groups, created after every migrate.

"legal staff" edit and publish the rules (every permission of the rules app, among them
rules.publish_packversion, with is_staff for the admin),
plus what other apps grant them (notifications: message templates), and never a case.
Caseworkers and supervisors are memberships (cases.models.Membership), not groups: they work in
the app and get no admin access unless someone grants it.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions

LEGAL_STAFF = "legal staff"
LEGAL_STAFF_APPS = ("rules",)
# From the cases app, legal staff see and start impact runs and follow re-evaluations: these
# show a case's file reference and organisation, never the applicant.
LEGAL_STAFF_CASES_PERMISSIONS = (
    "view_impactrun",
    "add_impactrun",
    "view_reevaluationrun",
    "view_reevaluationchunk",
)
# Publishing a rule pack version: legal staff hold it, and must sign in to the admin with a
# second factor (project/middleware.py). rules.PackVersion may also declare it in its Meta;
# get_or_create keeps both ways safe.
PUBLISH_CODENAME = "publish_packversion"
PUBLISH_NAME = "Can publish a pack version"


def ensure_groups(
    *, apps: Any = global_apps, verbosity: int = 1, using: str = "default", **kwargs: Any
) -> None:
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for label in LEGAL_STAFF_APPS:
        # Permissions are created by another post_migrate receiver; make sure they exist.
        create_permissions(global_apps.get_app_config(label), verbosity=0, using=using)
    content_type_model = apps.get_model("contenttypes", "ContentType")
    pack_version_type, _ = content_type_model._default_manager.using(using).get_or_create(
        app_label="rules", model="packversion"
    )
    permission_model._default_manager.using(using).get_or_create(
        codename=PUBLISH_CODENAME,
        content_type=pack_version_type,
        defaults={"name": PUBLISH_NAME},
    )
    group, _ = group_model._default_manager.using(using).get_or_create(name=LEGAL_STAFF)
    wanted = permission_model._default_manager.using(using).filter(
        content_type__app_label__in=LEGAL_STAFF_APPS
    )
    # Added, never reset: other apps grant the group their own permissions (message templates).
    group.permissions.add(*wanted)
    create_permissions(global_apps.get_app_config("cases"), verbosity=0, using=using)
    group.permissions.add(
        *permission_model._default_manager.using(using).filter(
            content_type__app_label="cases", codename__in=LEGAL_STAFF_CASES_PERMISSIONS
        )
    )
