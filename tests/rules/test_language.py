"""Results can be read in French: the pack's texts through its translations, sentences built in
French; codes, dates and legal bases never change with the language."""

from __future__ import annotations

from typing import Any

from rest_framework.test import APIClient

from rules.models import PackTranslation, PackVersion

CASE: dict[str, Any] = {
    "procedure": "asylum-reexamination",
    "department": "54",
    "as_of": "2026-05-10",
    "events": [{"type": "prefecture_presentation", "date": "2026-04-02"}],
}


def evaluate(client: APIClient, **extra: Any) -> dict[str, Any]:
    response = client.post("/api/v1/evaluate", {**CASE, **extra}, format="json")
    assert response.status_code == 200, response.json()
    body: dict[str, Any] = response.json()
    return body


def test_a_french_result_differs_from_the_english_one_only_in_its_texts(
    asylum_pack: PackVersion, token_client: APIClient
) -> None:
    english, french = evaluate(token_client), evaluate(token_client, language="fr")
    (en,), (fr,) = english["deadlines"], french["deadlines"]
    assert (fr["due"], fr["status"], fr["legal_basis"]) == (
        en["due"],
        en["status"],
        en["legal_basis"],
    )
    assert en["label"] == "Registration by the prefecture"
    assert fr["label"] == "Enregistrement par la préfecture"
    # Thursday 2 April 2026 in Metz: Good Friday and Easter Monday are not counted.
    assert fr["explanation"] == (
        "3 jours ouvrés à compter du 2 avril 2026 (présentation à la préfecture), selon le "
        "calendrier du département 57 \u2013 Préfecture de la Moselle (Metz) ; jours fériés non "
        "décomptés : vendredi saint, lundi de Pâques."
    )
    assert en["explanation"] == (
        "3 working days after presentation at the prefecture on 2 April 2026, on the calendar "
        "of department 57 \u2013 Préfecture de la Moselle (Metz); public holidays not counted: "
        "Good Friday, Easter Monday."
    )
    assert french["admissibility"]["status"] == english["admissibility"]["status"] == "incomplete"
    assert french["admissibility"]["status_label"] == "incomplet"
    assert french["notes"][0].startswith("L'OFPRA")
    assert (english["language"], french["language"]) == ("en", "fr")


def test_an_unknown_language_is_a_400_naming_the_field(
    asylum_pack: PackVersion, token_client: APIClient
) -> None:
    response = token_client.post("/api/v1/evaluate", {**CASE, "language": "de"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "language"


def test_legal_staff_edit_a_translation_and_the_next_result_uses_it(
    asylum_pack: PackVersion, token_client: APIClient
) -> None:
    row = PackTranslation.objects.get(
        pack_version=asylum_pack, language="fr", source="Registration by the prefecture"
    )
    row.text = "Enregistrement au guichet unique"
    row.save()
    assert evaluate(token_client, language="fr")["deadlines"][0]["label"] == (
        "Enregistrement au guichet unique"
    )
