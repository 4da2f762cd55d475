"""Results can be read in French: the pack's texts through its translations, sentences built in
French; codes, dates and legal bases never change with the language."""

from __future__ import annotations

from typing import Any

from django.test import Client
from rest_framework.test import APIClient

from rules.engine.explain import amount_of
from rules.models import PackTranslation, PackVersion
from tests.conftest import Amend

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
    asylum_pack: PackVersion, token_client: APIClient, amend: Amend
) -> None:
    def change(draft: PackVersion) -> None:
        row = PackTranslation.objects.get(
            pack_version=draft, language="fr", source="Registration by the prefecture"
        )
        row.text = "Enregistrement au guichet unique"
        row.save()

    amend(asylum_pack, change)
    assert evaluate(token_client, language="fr")["deadlines"][0]["label"] == (
        "Enregistrement au guichet unique"
    )


def explanation(client: APIClient, language: str, key: str, **case: Any) -> str:
    response = client.post("/api/v1/evaluate", {**case, "language": language}, format="json")
    assert response.status_code == 200, response.json()
    found = [d for d in response.json()["deadlines"] if d["key"] == key]
    return str(found[0]["explanation"])


def test_a_holiday_reads_as_a_public_holiday_in_both_languages(
    asylum_pack: PackVersion, token_client: APIClient
) -> None:
    case = {
        "procedure": "asylum-reexamination",
        "department": "73",
        "as_of": "2026-05-15",
        "events": [{"type": "registration", "date": "2026-05-06"}],
    }
    assert explanation(token_client, "fr", "ofpra_submission", **case) == (
        "8 jours à compter du 6 mai 2026 (enregistrement de la demande) ; tombe un jour férié "
        "(Ascension) : la date n'est pas déplacée."
    )
    assert explanation(token_client, "en", "ofpra_submission", **case) == (
        "8 days after registration of the application on 6 May 2026; falls on a public holiday "
        "(Ascension Day); the date is not moved."
    )


def test_a_month_without_the_day_brings_the_due_date_to_its_last_day(
    asylum_pack: PackVersion, token_client: APIClient
) -> None:
    case = {
        "procedure": "asylum-reexamination",
        "department": "54",
        "as_of": "2026-02-01",
        "events": [
            {"type": "registration", "date": "2025-12-01"},
            {"type": "ofpra_submission", "date": "2025-12-05"},
            {"type": "ofpra_decision", "date": "2026-01-20", "outcome": "rejected"},
            {"type": "decision_notified", "date": "2026-01-31"},
        ],
    }
    text = explanation(token_client, "fr", "cnda_appeal", **case)
    assert "l'échéance est ramenée au dernier jour du mois" in text


def test_a_number_and_its_unit_agree() -> None:
    assert amount_of(1, "calendar_days", "fr") == "1 jour"
    assert amount_of(3, "calendar_days", "fr") == "3 jours"
    assert amount_of(1, "working_days", "fr") == "1 jour ouvré"
    assert amount_of(1, "calendar_days", "en") == "1 day"
    assert amount_of(2, "weeks", "en") == "2 weeks"


def test_french_explanations_never_nest_brackets(
    asylum_pack: PackVersion, token_client: APIClient, scenarios: list[dict[str, Any]]
) -> None:
    for scenario in scenarios:
        request = {**scenario["request"], "language": "fr"}
        response = token_client.post("/api/v1/evaluate", request, format="json")
        assert response.status_code == 200
        for deadline in response.json()["deadlines"]:
            depth = 0
            for char in deadline["explanation"]:
                depth += {"(": 1, ")": -1}.get(char, 0)
                assert depth <= 1, deadline["explanation"]
            assert "1 jours" not in deadline["explanation"]


def test_notes_and_source_titles_follow_the_language(
    asylum_pack: PackVersion, token_client: APIClient, amend: Amend
) -> None:
    english = evaluate(token_client)["deadlines"][0]

    def translate(draft: PackVersion) -> None:
        draft.translations.create(
            language="fr", source=english["source"]["title"], text="Titre de la source en français"
        )
        if english.get("notes"):
            draft.translations.create(
                language="fr", source=english["notes"], text="Note en français"
            )

    amend(asylum_pack, translate)
    french = evaluate(token_client, language="fr")["deadlines"][0]
    assert french["source"]["title"] == "Titre de la source en français"
    if english.get("notes"):
        assert french["notes"] == "Note en français"
    assert french["source"]["url"] == english["source"]["url"]


def test_status_labels_are_words_not_codes(
    asylum_pack: PackVersion, token_client: APIClient, amend: Amend
) -> None:
    english = evaluate(token_client)
    assert english["right_to_remain"]["status"] == "until_ofpra_decision"
    assert "_" not in english["right_to_remain"]["status_label"]
    amend(
        asylum_pack,
        lambda draft: draft.translations.create(
            language="en", source="until_ofpra_decision", text="until OFPRA decides"
        ),
    )
    assert evaluate(token_client)["right_to_remain"]["status_label"] == "until OFPRA decides"


def test_the_api_speaks_english_whatever_the_browser_says(
    asylum_pack: PackVersion, api_client: APIClient, token_client: APIClient
) -> None:
    refused = api_client.post(
        "/api/v1/evaluate", CASE, format="json", HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9"
    )
    assert refused.status_code == 401
    assert refused.json() == {
        "errors": [{"field": "", "message": "Authentication credentials were not provided."}]
    }
    assert refused["Content-Language"] == "en"
    wrong_method = token_client.get("/api/v1/evaluate", HTTP_ACCEPT_LANGUAGE="fr")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["errors"][0]["message"] == 'Method "GET" not allowed.'
    missing = token_client.get("/api/v1/packs/no-such-pack", HTTP_ACCEPT_LANGUAGE="fr")
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["message"] == "Not found."
    bad = token_client.post(
        "/api/v1/evaluate", {**CASE, "department": "999"}, format="json", HTTP_ACCEPT_LANGUAGE="fr"
    )
    assert bad.status_code == 400
    assert bad["Content-Language"] == "en"
    # Only the body's "language" changes the texts of a result.
    assert (
        token_client.post(
            "/api/v1/evaluate", CASE, format="json", HTTP_ACCEPT_LANGUAGE="fr"
        ).json()["language"]
        == "en"
    )
    french = token_client.post("/api/v1/evaluate", {**CASE, "language": "fr"}, format="json")
    assert french["Content-Language"] == "fr"


def test_an_unknown_api_address_is_a_json_404_in_english(client: Client, settings: Any) -> None:
    settings.DEBUG = False
    response = client.get("/api/v1/nothing-here", HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 404
    assert response.json() == {"errors": [{"field": "", "message": "Not found."}]}
