"""PATCH /sources/{id} in the sandbox: creating takes only a slug, so a name comes after."""

from __future__ import annotations

import ssl
from collections.abc import Iterator

import httpx
import pytest

from app.proof.create import create_chatlio_source
from app.segment import SANDBOX_KEY, SANDBOX_TOKEN
from app.segment.public_api.client import PublicApiClient
from app.segment.public_api.errors import PublicApiError
from app.segment.public_api.hosts import parse_api_endpoint
from app.segment.sandbox import Sandbox
from tests.test_sandbox_public_api import AUTH, error_of, ok


@pytest.fixture
def api(sandbox: Sandbox) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=sandbox.public_api_url,
        headers=AUTH,
        timeout=10,
        trust_env=False,
        verify=ssl.create_default_context(),
    ) as http:
        yield http


def test_a_source_is_renamed_and_turned_off(api: httpx.Client) -> None:
    created = ok(
        api.post("/sources", json={"slug": "chat", "enabled": True, "metadataId": "W3065KyMWF"})
    )
    source_id = created["source"]["id"]
    renamed = ok(api.patch(f"/sources/{source_id}", json={"name": "Chatlio (prod)"}))
    assert renamed["source"]["name"] == "Chatlio (prod)"
    assert renamed["source"]["slug"] == "chat"
    off = ok(api.patch(f"/sources/{source_id}", json={"enabled": False}))
    assert off["source"]["enabled"] is False
    assert off["source"]["name"] == "Chatlio (prod)"
    assert ok(api.get(f"/sources/{source_id}"))["source"]["name"] == "Chatlio (prod)"


def test_bad_updates_get_the_error_envelope(api: httpx.Client) -> None:
    created = ok(
        api.post("/sources", json={"slug": "chat", "enabled": True, "metadataId": "W3065KyMWF"})
    )
    source_id = created["source"]["id"]
    assert error_of(api.patch(f"/sources/{source_id}", json={"name": 3}), 422)["field"] == "name"
    assert error_of(api.patch(f"/sources/{source_id}", json={"name": " "}), 422)["field"] == "name"
    error_of(api.patch(f"/sources/{source_id}", content=b"[1]"), 422)
    error_of(api.patch("/sources/nosuchsource", json={"name": "x"}), 404)
    refused = api.patch("/sources", json={"name": "x"})
    assert refused.status_code == 405
    assert refused.headers["allow"] == "GET, POST"
    assert api.delete(f"/sources/{source_id}").headers["allow"] == "GET, PATCH"


def test_the_created_source_carries_the_name_asked_for(sandbox: Sandbox) -> None:
    endpoint = parse_api_endpoint(sandbox.public_api_url)
    with PublicApiClient(endpoint, SANDBOX_TOKEN) as client:
        created = create_chatlio_source(client, "Chatlio Support")
        assert created.source.name == "Chatlio Support"
        assert client.source(created.source.id).name == "Chatlio Support"


def test_a_stand_in_chatlio_source_gives_way_to_the_first_one_created() -> None:
    with Sandbox(chatlio_stand_in=True) as sandbox:
        endpoint = parse_api_endpoint(sandbox.public_api_url)
        with PublicApiClient(endpoint, SANDBOX_TOKEN) as client:
            [stand_in] = [s for s in client.sources() if s.is_chatlio]
            assert stand_in.slug == "chatlio"
            assert stand_in.write_keys == (SANDBOX_KEY,)
            created = create_chatlio_source(client, "Chatlio")  # the same slug: no conflict
            chatlio = [s for s in client.sources() if s.is_chatlio]
            assert [s.id for s in chatlio] == [created.source.id] != [stand_in.id]
            assert created.write_key == SANDBOX_KEY
            again = create_chatlio_source(client, "Chatlio Two")
            assert again.write_key not in (None, SANDBOX_KEY)


def test_the_stand_in_survives_a_refused_create_and_a_rename() -> None:
    with Sandbox(chatlio_stand_in=True) as sandbox:
        workspace = sandbox.public_api.workspace
        endpoint = parse_api_endpoint(sandbox.public_api_url)
        with PublicApiClient(endpoint, SANDBOX_TOKEN) as client:
            with pytest.raises(PublicApiError):
                create_chatlio_source(client, "Website")  # the website's slug: refused
            stand_in = workspace.owner_of(SANDBOX_KEY)
            assert stand_in is not None, "a refused create leaves the stand-in in place"
            client.rename_source(stand_in.id, "Chatlio (renamed)")
            created = create_chatlio_source(client, "Chatlio")
            assert created.write_key == SANDBOX_KEY
            assert [s.name for s in client.sources() if s.is_chatlio] == ["Chatlio"]
