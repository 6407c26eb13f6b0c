"""The sandbox's Public API: workspace, sources, create, auth, over real loopback HTTP."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from app.segment import SANDBOX_KEY, SANDBOX_TOKEN
from app.segment.sandbox import Sandbox

CHATLIO = "W3065KyMWF"
JAVASCRIPT = "IqDTy1TpoU"
AUTH = {"Authorization": f"Bearer {SANDBOX_TOKEN}"}
TLS = ssl.create_default_context()
SOURCE_FIELDS = {
    "id",
    "slug",
    "name",
    "metadata",
    "workspaceId",
    "enabled",
    "writeKeys",
    "settings",
    "labels",
}


@pytest.fixture
def api(sandbox: Sandbox) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=sandbox.public_api_url, headers=AUTH, timeout=10, trust_env=False, verify=TLS
    ) as http:
        yield http


def ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    document = response.json()
    assert set(document) == {"data"}
    data: dict[str, Any] = document["data"]
    return data


def error_of(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    document = response.json()
    assert set(document) == {"errors"}
    assert len(document["errors"]) == 1
    entry: dict[str, Any] = document["errors"][0]
    assert isinstance(entry["type"], str)
    assert entry["type"]
    assert isinstance(entry["message"], str)
    assert entry["message"]
    return entry


def create(api: httpx.Client, slug: str, metadata_id: str = CHATLIO) -> dict[str, Any]:
    body = {"slug": slug, "enabled": True, "metadataId": metadata_id}
    source: dict[str, Any] = ok(api.post("/sources", json=body))["source"]
    return source


def test_the_workspace_answers_at_the_root_with_and_without_its_slash(
    sandbox: Sandbox, api: httpx.Client
) -> None:
    assert sandbox.public_api_url == sandbox.url + "/public-api"
    for path in ("/", ""):
        workspace = ok(api.get(sandbox.public_api_url + path))["workspace"]
        assert workspace == {
            "id": "sandbox-workspace",
            "slug": "sandbox",
            "name": "Sandbox workspace",
        }


def test_the_sandbox_health_still_answers_beside_the_public_api(sandbox: Sandbox) -> None:
    answer = httpx.get(sandbox.url + "/", trust_env=False)
    assert answer.status_code == 200
    assert answer.json()["sandbox"] is True


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-token", f"Basic {SANDBOX_TOKEN}", "Bearer", f"Bearer {SANDBOX_TOKEN}x"],
)
def test_a_missing_or_wrong_token_is_401_in_the_error_envelope(
    sandbox: Sandbox, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    for path in ("/", "/sources", "/sources/sandboxWebsiteSource"):
        answer = httpx.get(sandbox.public_api_url + path, headers=headers, trust_env=False)
        assert error_of(answer, 401)["status"] == 401


def test_the_seeded_workspace_has_the_website_source_and_no_chatlio_one(api: httpx.Client) -> None:
    data = ok(api.get("/sources"))
    sources = data["sources"]
    assert [source["slug"] for source in sources] == ["website"]
    website = sources[0]
    assert set(website) == SOURCE_FIELDS
    assert website["writeKeys"] == ["sandbox-website-key"]
    assert website["workspaceId"] == "sandbox-workspace"
    assert website["enabled"] is True
    assert website["labels"] == []
    assert isinstance(website["settings"], dict)
    metadata = website["metadata"]
    assert (metadata["id"], metadata["slug"], metadata["name"]) == (
        JAVASCRIPT,
        "javascript",
        "Javascript",
    )
    assert isinstance(metadata["categories"], list)
    assert data["pagination"]["totalEntries"] == 1
    assert "next" not in data["pagination"]


def test_a_sandbox_may_start_with_a_chatlio_source_holding_the_sandbox_key() -> None:
    with Sandbox(chatlio_source=True) as sandbox:
        answer = httpx.get(sandbox.public_api_url + "/sources", headers=AUTH, trust_env=False)
        chatlio = [s for s in ok(answer)["sources"] if s["metadata"]["id"] == CHATLIO]
    assert len(chatlio) == 1
    assert (chatlio[0]["name"], chatlio[0]["slug"]) == ("Chatlio", "chatlio")
    assert chatlio[0]["writeKeys"] == [SANDBOX_KEY]


def test_the_first_chatlio_source_created_gets_the_sandbox_key_later_ones_fresh_keys(
    api: httpx.Client,
) -> None:
    first = create(api, "chatlio")
    assert set(first) == SOURCE_FIELDS
    assert first["writeKeys"] == [SANDBOX_KEY]
    assert first["metadata"]["id"] == CHATLIO
    assert first["metadata"]["name"] == "Chatlio"
    second = create(api, "chatlio-2")
    assert len(second["writeKeys"]) == 1
    assert second["writeKeys"][0] not in {SANDBOX_KEY, "sandbox-website-key"}
    assert second["id"] != first["id"]
    again = ok(api.get(f"/sources/{first['id']}"))["source"]
    assert again == first
    slugs = [source["slug"] for source in ok(api.get("/sources"))["sources"]]
    assert slugs == ["website", "chatlio", "chatlio-2"]


def test_a_non_chatlio_source_created_first_does_not_take_the_sandbox_key(
    api: httpx.Client,
) -> None:
    website = create(api, "another-site", JAVASCRIPT)
    assert website["writeKeys"] != [SANDBOX_KEY]
    assert create(api, "chatlio")["writeKeys"] == [SANDBOX_KEY]


def test_a_created_source_may_carry_a_name_and_settings(api: httpx.Client) -> None:
    body = {"slug": "chat", "enabled": False, "metadataId": CHATLIO, "settings": {"a": 1}}
    source = ok(api.post("/sources", json={**body, "name": "Chat Widget"}))["source"]
    assert (source["name"], source["enabled"], source["settings"]) == (
        "Chat Widget",
        False,
        {"a": 1},
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"enabled": True, "metadataId": CHATLIO}, "slug"),
        ({"slug": "", "enabled": True, "metadataId": CHATLIO}, "slug"),
        ({"slug": "Has Spaces", "enabled": True, "metadataId": CHATLIO}, "slug"),
        ({"slug": 7, "enabled": True, "metadataId": CHATLIO}, "slug"),
        ({"slug": "chatlio", "enabled": True}, "metadataId"),
        ({"slug": "chatlio", "enabled": True, "metadataId": "NoSuchOne"}, "metadataId"),
        ({"slug": "chatlio", "enabled": "yes", "metadataId": CHATLIO}, "enabled"),
    ],
)
def test_a_bad_create_is_422_naming_the_field(
    api: httpx.Client, body: dict[str, Any], field: str
) -> None:
    assert error_of(api.post("/sources", json=body), 422)["field"] == field
    assert len(ok(api.get("/sources"))["sources"]) == 1


def test_a_body_that_is_not_json_is_refused(api: httpx.Client) -> None:
    error_of(
        api.post("/sources", content=b"{nope", headers={"Content-Type": "application/json"}), 400
    )


def test_a_duplicate_slug_is_409(api: httpx.Client) -> None:
    create(api, "chatlio")
    body = {"slug": "chatlio", "enabled": True, "metadataId": CHATLIO}
    assert error_of(api.post("/sources", json=body), 409)["field"] == "slug"
    assert error_of(api.post("/sources", json={**body, "slug": "website"}), 409)


def test_an_unknown_source_or_path_is_404(api: httpx.Client) -> None:
    error_of(api.get("/sources/nope"), 404)
    error_of(api.get("/sources/nope/connected-destinations"), 404)
    error_of(api.get("/no-such-thing"), 404)


def test_a_wrong_method_is_405(api: httpx.Client) -> None:
    answer = api.delete("/sources")
    error_of(answer, 405)
    assert answer.headers["Allow"] == "GET, POST"


def test_sources_page_by_count_and_cursor_until_next_is_absent(
    sandbox: Sandbox, api: httpx.Client
) -> None:
    sandbox.public_api.add_sources(24)
    create(api, "chatlio")
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params = {"pagination.count": "10"}
        if cursor:
            params["pagination.cursor"] = cursor
        data = ok(api.get("/sources", params=params))
        pagination = data["pagination"]
        assert pagination["totalEntries"] == 26
        assert isinstance(pagination["current"], str)
        assert len(data["sources"]) <= 10
        if pages:
            assert isinstance(pagination["previous"], str)
        else:
            assert "previous" not in pagination
        seen += [source["slug"] for source in data["sources"]]
        pages += 1
        cursor = pagination.get("next")
        if not cursor:
            break
    assert pages == 3
    assert len(seen) == len(set(seen)) == 26
    assert seen[0] == "website"
    assert seen[-1] == "chatlio"
    assert all(slug.startswith("filler-") for slug in seen[1:-1])


def test_a_page_size_cap_makes_pages_shorter_than_asked(
    sandbox: Sandbox, api: httpx.Client
) -> None:
    sandbox.public_api.add_sources(6)
    sandbox.public_api.cap_page_size(3)
    slugs: list[str] = []
    params = {"pagination.count": "200"}
    while True:
        data = ok(api.get("/sources", params=params))
        assert len(data["sources"]) <= 3
        slugs += [source["slug"] for source in data["sources"]]
        if "next" not in data["pagination"]:
            break
        params["pagination.cursor"] = data["pagination"]["next"]
    assert len(slugs) == len(set(slugs)) == 7
    sandbox.public_api.cap_page_size(None)
    assert len(ok(api.get("/sources"))["sources"]) == 7
    with pytest.raises(ValueError, match="at least one"):
        sandbox.public_api.cap_page_size(0)


def test_sources_default_to_200_a_page(sandbox: Sandbox, api: httpx.Client) -> None:
    sandbox.public_api.add_sources(210)
    data = ok(api.get("/sources"))
    assert len(data["sources"]) == 200
    assert data["pagination"]["next"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("pagination.count", "0"),
        ("pagination.count", "1001"),
        ("pagination.count", "ten"),
        ("pagination.cursor", "not-a-cursor"),
    ],
)
def test_bad_pagination_is_422(api: httpx.Client, name: str, value: str) -> None:
    assert error_of(api.get("/sources", params={name: value}), 422)["field"] == name


@pytest.mark.parametrize(
    "accept",
    [
        "application/vnd.segment.v1+json",
        "application/vnd.segment.v1beta+json",
        "application/vnd.segment.v1alpha+json",
        "application/json",
        "*/*",
    ],
)
def test_every_version_header_is_answered(api: httpx.Client, accept: str) -> None:
    ok(api.get("/sources", headers={"Accept": accept}))


def test_an_unknown_segment_version_is_refused(api: httpx.Client) -> None:
    error_of(api.get("/", headers={"Accept": "application/vnd.segment.v9+json"}), 415)


def test_head_states_the_length_of_the_answer_without_it(api: httpx.Client) -> None:
    got = api.get("/sources")
    head = api.head("/sources")
    assert head.status_code == 200
    assert head.content == b""
    assert int(head.headers["Content-Length"]) == len(got.content)
