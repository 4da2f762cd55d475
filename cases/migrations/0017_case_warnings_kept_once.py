"""A case's warnings that concern the whole case are kept once, on the case (case_warnings), and
no longer copied into each of its deadline rows' texts: a publication that moves the review
horizon changed that message on every case, and so rewrote every deadline row (with a history
row each). Existing cases get theirs from their stored evaluation, and their deadline rows lose
the copies (a storage change, not a change of what is shown: no history row). Readers merge the
two (cases/models.py `warnings_in`), so a row not yet rewritten shows the same warnings."""

from typing import Any

from django.db import migrations, models

BATCH = 1000


def shown(warning: dict[str, Any]) -> dict[str, Any]:
    return {
        "code": warning["code"],
        "title": warning.get("title") or warning["code"],
        "message": warning["message"],
    }


def keep_case_warnings_once(apps: Any, schema_editor: Any) -> None:
    case_model = apps.get_model("cases", "Case")
    deadline_model = apps.get_model("cases", "Deadline")
    ids = list(case_model.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), BATCH):
        batch = ids[start : start + BATCH]
        shared: dict[int, dict[str, list[dict[str, Any]]]] = {}
        cases = []
        for case in case_model.objects.filter(pk__in=batch).only("pk", "evaluation"):
            found = {
                lang: [shown(w) for w in result.get("warnings") or [] if "deadlines" not in w]
                for lang, result in (case.evaluation or {}).items()
                if isinstance(result, dict)
            }
            found = {lang: warnings for lang, warnings in found.items() if warnings}
            if found:
                case.case_warnings = found
                cases.append(case)
                shared[case.pk] = found
        case_model.objects.bulk_update(cases, ["case_warnings"])
        rows = []
        for row in deadline_model.objects.filter(case_id__in=list(shared)).only(
            "pk", "case_id", "texts"
        ):
            codes = {w["code"] for warnings in shared[row.case_id].values() for w in warnings}
            texts = row.texts if isinstance(row.texts, dict) else {}
            changed = False
            for lang, text in texts.items():
                if not isinstance(text, dict) or not isinstance(text.get("warnings"), list):
                    continue
                own = [
                    w
                    for w in text["warnings"]
                    if not (isinstance(w, dict) and w.get("code") in codes)
                ]
                if len(own) != len(text["warnings"]):
                    changed = True
                    if own:
                        text["warnings"] = own
                    else:
                        del text["warnings"]
            if changed:
                rows.append(row)
        deadline_model.objects.bulk_update(rows, ["texts"], batch_size=BATCH)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0016_pending_indexes_carry_the_row"),
    ]

    operations = [
        migrations.AddField(
            model_name="case",
            name="case_warnings",
            field=models.JSONField(blank=True, default=dict, editable=False),
        ),
        migrations.RunPython(keep_case_warnings_once, migrations.RunPython.noop),
    ]
