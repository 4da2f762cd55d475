"""The rule-pack read endpoints, the OpenAPI schema and the documentation page (api.md "Also")."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from django.contrib.auth.models import User
from django.http import HttpResponse
from django.test import Client
from rest_framework.test import APIClient

from rules.models import PackVersion

PACKS = "/api/v1/packs"
PACK = "/api/v1/packs/asylum-reexamination"

pytestmark = pytest.mark.usefixtures("asylum_pack")


def error_list(response: HttpResponse, status: int) -> list[dict[str, str]]:
    assert response.status_code == status, (response.status_code, response.content[:500])
    data = json.loads(response.content)
    assert set(data) == {"errors"}
    assert data["errors"]
    for item in data["errors"]:
        assert set(item) == {"field", "message"}
        assert isinstance(item["field"], str)
        assert isinstance(item["message"], str)
        assert item["message"].strip()
    return list(data["errors"])


def rule(data: dict[str, Any], key: str) -> dict[str, Any]:
    found = [r for r in data["deadline_rules"] if r["key"] == key]
    assert len(found) == 1, key
    result: dict[str, Any] = found[0]
    return result


def in_force(token_client: APIClient, day: str) -> dict[str, Any]:
    response = token_client.get(PACK, {"on": day})
    assert response.status_code == 200, response.content
    data: dict[str, Any] = response.json()
    return data


# --- GET /api/v1/packs ----------------------------------------------------------------------


def test_the_pack_list_shows_the_published_version_and_its_review_dates(
    token_client: APIClient,
) -> None:
    response = token_client.get(PACKS)
    assert response.status_code == 200, response.content
    packs = response.json()["packs"]
    assert [p["key"] for p in packs] == ["asylum-reexamination"]
    pack = packs[0]
    assert pack["version"] == 1
    assert pack["verified_on"] == "2026-11-26"
    assert pack["reviewed_until"] == "2026-06-11"
    assert pack["name"]
    assert pack["versions"] == [{"version": 1, "status": "published"}]


def test_the_pack_list_names_the_newest_published_version_not_a_newer_draft(
    token_client: APIClient, asylum_pack: PackVersion
) -> None:
    from rules.packstore import copy_as_draft

    copy_as_draft(asylum_pack)
    pack = token_client.get(PACKS).json()["packs"][0]
    assert pack["version"] == 1
    assert pack["versions"] == [
        {"version": 2, "status": "draft"},
        {"version": 1, "status": "published"},
    ]


def test_the_pack_list_requires_authentication(api_client: APIClient) -> None:
    error_list(api_client.get(PACKS), 401)


def test_a_logged_in_session_can_read_the_pack_list(user: User) -> None:
    client = Client()
    client.force_login(user)
    assert client.get(PACKS).status_code == 200


# --- GET /api/v1/packs/<key>?on= ------------------------------------------------------------


def test_the_rules_in_force_in_january_2020_are_the_pre_recodification_ones(
    token_client: APIClient,
) -> None:
    data = in_force(token_client, "2020-01-15")
    assert data["key"] == "asylum-reexamination"
    assert data["on"] == "2020-01-15"
    assert data["version"] == 1
    assert data["status"] == "published"
    submission = rule(data, "ofpra_submission")["versions"]
    assert [v["legal_basis"] for v in submission] == ["CESEDA R723-15"]
    assert submission[0]["offset"] == 8
    assert rule(data, "registration")["versions"][0]["legal_basis"] == "CESEDA L741-1"
    assert rule(data, "cnda_appeal")["versions"][0]["legal_basis"] == "CESEDA L731-2"


def test_attestation_renewal_shows_its_versions_from_before_11_may_2020(
    token_client: APIClient,
) -> None:
    before = rule(in_force(token_client, "2020-01-15"), "attestation_renewal")["versions"]
    assert sorted(v["version"] for v in before) == [1, 2]
    assert sorted(v["offset"] for v in before) == [1, 6]
    assert all(v["effective_to"] == "2020-05-10" for v in before)
    last_day = rule(in_force(token_client, "2020-05-10"), "attestation_renewal")["versions"]
    assert sorted(v["version"] for v in last_day) == [1, 2]
    after = rule(in_force(token_client, "2020-05-11"), "attestation_renewal")["versions"]
    assert [v["version"] for v in after] == [3]
    assert after[0]["effective_from"] == "2020-05-11"
    assert "5 mai 2020" in after[0]["legal_basis"]


def test_the_rules_in_force_in_january_2026_are_the_current_ones(token_client: APIClient) -> None:
    data = in_force(token_client, "2026-01-15")
    submission = rule(data, "ofpra_submission")["versions"]
    assert [v["legal_basis"] for v in submission] == ["CESEDA R531-36"]
    assert submission[0]["effective_from"] == "2021-05-01"
    assert submission[0]["effective_to"] is None
    assert rule(data, "registration")["versions"][0]["legal_basis"] == "CESEDA L521-4"
    assert [v["version"] for v in rule(data, "attestation_renewal")["versions"]] == [3]


def test_the_switch_to_the_recodified_rules_happens_on_1_may_2021(
    token_client: APIClient,
) -> None:
    def basis(day: str) -> list[str]:
        return [
            v["legal_basis"]
            for v in rule(in_force(token_client, day), "ofpra_submission")["versions"]
        ]

    assert basis("2021-04-30") == ["CESEDA R723-15"]
    assert basis("2021-05-01") == ["CESEDA R531-36"]


def test_every_rule_version_in_force_carries_its_basis_source_and_confidence(
    token_client: APIClient,
) -> None:
    for day in ("2020-01-15", "2026-01-15"):
        data = in_force(token_client, day)
        versions = [v for r in data["deadline_rules"] for v in r["versions"]]
        versions += [v for o in data["outcomes"] for v in o["rules"]]
        versions += data["milestones"] + data["warnings"]
        versions += [t["version"] for t in data["lookup_tables"] if t["version"]]
        assert len(versions) > 20
        for version in versions:
            assert isinstance(version["legal_basis"], str)
            assert version["legal_basis"].strip(), version
            assert isinstance(version["source_title"], str)
            assert version["source_title"].strip(), version
            assert "source_url" in version
            assert version["confidence"] in ("certain", "likely", "unsure"), version


def test_every_deadline_rule_of_the_pack_has_exactly_one_version_in_force_today(
    token_client: APIClient,
) -> None:
    data = in_force(token_client, "2026-01-15")
    for deadline in data["deadline_rules"]:
        assert len(deadline["versions"]) == 1, deadline["key"]


def test_the_pack_detail_shows_the_pack_sources_and_review_dates(token_client: APIClient) -> None:
    data = in_force(token_client, "2026-01-15")
    assert data["verified_on"] == "2026-11-26"
    assert data["reviewed_until"] == "2026-06-11"
    assert data["source"]["title"]
    assert data["event_types"]


def test_without_on_the_pack_detail_shows_today(token_client: APIClient) -> None:
    from rules.services import today

    response = token_client.get(PACK)
    assert response.status_code == 200
    assert response.json()["on"] == today().isoformat()


@pytest.mark.parametrize(
    "value",
    [
        "2020-02-30",
        "2020-13-01",
        "15-01-2020",
        "20200115",
        "2020-1-15",
        "",
        "yesterday",
        "1800-01-01",
        "10000-01-01",
    ],
)
def test_an_invalid_on_is_a_400_naming_on(token_client: APIClient, value: str) -> None:
    errors = error_list(token_client.get(PACK, {"on": value}), 400)
    assert [e["field"] for e in errors] == ["on"]


def test_an_invalid_on_and_version_are_both_listed(token_client: APIClient) -> None:
    errors = error_list(token_client.get(PACK, {"on": "x", "version": "y"}), 400)
    assert sorted(e["field"] for e in errors) == ["on", "version"]


def test_an_explicit_version_number_is_shown(token_client: APIClient) -> None:
    response = token_client.get(PACK, {"version": "1", "on": "2026-01-15"})
    assert response.status_code == 200
    assert response.json()["version"] == 1


@pytest.mark.parametrize("value", ["\u00b2", "\u2460"])
def test_a_version_of_non_ascii_digits_is_a_400_naming_version_not_a_500(
    token_client: APIClient, value: str
) -> None:
    # "²".isdigit() is True but int("²") raises: rules/api.py checks with isdigit().
    token_client.raise_request_exception = False
    response = token_client.get(PACK, {"version": value})
    errors = error_list(response, 400)
    assert [e["field"] for e in errors] == ["version"]


def test_a_version_number_too_large_for_the_database_is_not_a_500(
    token_client: APIClient,
) -> None:
    token_client.raise_request_exception = False
    response = token_client.get(PACK, {"version": "9" * 30})
    assert response.status_code in (400, 404), response.content[:300]
    error_list(response, response.status_code)


def test_a_version_that_does_not_exist_is_a_404(token_client: APIClient) -> None:
    error_list(token_client.get(PACK, {"version": "7"}), 404)


def test_an_unknown_pack_is_a_404_in_the_error_shape(token_client: APIClient) -> None:
    error_list(token_client.get(f"{PACKS}/asylum-first-application"), 404)
    error_list(token_client.get(f"{PACKS}/asylum-first-application", {"on": "2026-01-15"}), 404)


def test_a_pack_with_only_a_draft_is_a_404_without_a_version(
    token_client: APIClient, asylum_pack: PackVersion
) -> None:
    PackVersion.objects.filter(pk=asylum_pack.pk).update(status=PackVersion.Status.DRAFT)
    error_list(token_client.get(PACK), 404)
    assert token_client.get(PACK, {"version": "1"}).json()["status"] == "draft"


def test_the_pack_detail_requires_authentication(api_client: APIClient) -> None:
    error_list(api_client.get(PACK, {"on": "2026-01-15"}), 401)
    error_list(api_client.get(f"{PACKS}/nope"), 401)


def test_a_wrong_token_cannot_read_the_pack_detail(api_client: APIClient) -> None:
    api_client.credentials(HTTP_AUTHORIZATION="Token " + "f" * 40)
    error_list(api_client.get(PACK), 401)


# --- schema and documentation ---------------------------------------------------------------


def test_the_schema_is_an_openapi_3_document_with_the_evaluate_path(user: User) -> None:
    client = Client()
    client.force_login(user)
    response = client.get("/api/schema/")
    assert response.status_code == 200
    document = yaml.safe_load(response.content)
    assert str(document["openapi"]).startswith("3.")
    assert "/api/v1/evaluate" in document["paths"]
    assert "post" in document["paths"]["/api/v1/evaluate"]
    assert "/api/v1/packs" in document["paths"]
    assert "/api/v1/packs/{key}" in document["paths"]


def test_the_schema_is_served_as_json_on_request(user: User) -> None:
    client = Client()
    client.force_login(user)
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    document = response.json()
    assert str(document["openapi"]).startswith("3.")
    assert "/api/v1/evaluate" in document["paths"]


URL_ATTRIBUTE = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", re.IGNORECASE)
ABSOLUTE_URL = re.compile(r"""(?:https?:)?//[A-Za-z0-9][A-Za-z0-9.-]*""", re.IGNORECASE)


def test_the_documentation_page_loads_its_assets_only_from_the_site_itself(user: User) -> None:
    client = Client()
    client.force_login(user)
    response = client.get("/api/docs/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assets = URL_ATTRIBUTE.findall(html)
    assert any(a.endswith(".js") for a in assets), assets
    assert any(a.endswith(".css") for a in assets), assets
    for asset in assets:
        parts = urlsplit(asset)
        assert not parts.scheme, asset
        assert not parts.netloc, asset
        assert asset.startswith("/"), asset
    # No absolute URL anywhere in the page: not in a script, a style or an attribute.
    hosts = {urlsplit(url).hostname for url in ABSOLUTE_URL.findall(html)}
    assert hosts <= {"testserver"}, hosts


def test_the_documentation_page_assets_are_served(user: User) -> None:
    client = Client()
    client.force_login(user)
    html = client.get("/api/docs/").content.decode()
    for asset in URL_ATTRIBUTE.findall(html):
        response = client.get(asset)
        assert response.status_code == 200, asset
