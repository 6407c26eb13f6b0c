"""The setup use cases over loopback: the token's region, the key's owner, a created source,
its connections, and the token-free CDN check."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from app.proof.cdn import CdnAnswer, cdn_lookup
from app.proof.connections import SourceConnections, source_connections
from app.proof.create import create_chatlio_source, source_slug
from app.proof.key_owner import KeyOwner, find_key_owner
from app.proof.workspace import TokenCheck, check_token
from app.segment.endpoint import Region
from app.segment.proxy import ProxyChoice, ProxyMode
from app.segment.public_api.client import PublicApiClient
from app.segment.public_api.errors import ApiErrorKind, PublicApiError
from app.segment.public_api.hosts import ApiEndpoint
from app.segment.public_api.models import CatalogEntry, Connection, Source, Workspace
from app.segment.retry import RetryPolicy
from tests.public_api_server import (
    WORKSPACE,
    ApiServer,
    Reply,
    Seen,
    errors_reply,
    json_reply,
    source_json,
)

TOKEN = "planted-setup-token-7c41aa90"
KEY = "planted-write-key-1d2e3f4a5b6c"
FAST = RetryPolicy(max_attempts=2, initial_backoff=0.01, max_backoff=0.02)


@pytest.fixture
def servers() -> Iterator[tuple[ApiServer, ApiServer]]:
    with ApiServer() as us, ApiServer() as eu:
        yield us, eu


def as_regions(us: ApiServer, eu: ApiServer) -> list[ApiEndpoint]:
    return [ApiEndpoint(us.url, Region.US), ApiEndpoint(eu.url, Region.EU)]


# --- the token ------------------------------------------------------------------------------


def test_the_host_that_accepts_the_token_tells_the_region(
    servers: tuple[ApiServer, ApiServer], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    us, eu = servers
    us.answer = lambda seen: errors_reply(401, "Unauthorized")
    check = check_token(TOKEN, as_regions(us, eu), retry=FAST)
    assert check.region is Region.EU
    assert check.workspace == Workspace("ws-1", "acme", "Acme")
    assert len(us.seen) == 1
    assert check.describe() == (
        'The token opens workspace "Acme" (acme), in Segment\'s EU region. Chatlio sources '
        "exist only in US workspaces, so Chatlio cannot send to this workspace."
    )
    assert TOKEN not in repr(check) + caplog.text


def test_the_first_host_wins_and_the_second_is_not_asked(
    servers: tuple[ApiServer, ApiServer],
) -> None:
    us, eu = servers
    check = check_token(TOKEN, as_regions(us, eu), retry=FAST)
    assert check.region is Region.US
    assert eu.seen == []
    assert check.describe() == 'The token opens workspace "Acme" (acme), in Segment\'s US region.'


def test_refused_everywhere_names_both_regions(servers: tuple[ApiServer, ApiServer]) -> None:
    us, eu = servers
    us.answer = eu.answer = lambda seen: errors_reply(401, f"bad {seen.headers['authorization']}")
    with pytest.raises(PublicApiError) as caught:
        check_token(TOKEN, as_regions(us, eu), retry=FAST)
    error = caught.value
    assert error.kind is ApiErrorKind.UNAUTHORIZED
    assert error.sentence.startswith(
        "Neither Segment's US region nor Segment's EU region accepted the token"
    )
    assert TOKEN not in str(error) + repr(error) + error.technical


def test_a_host_that_cannot_be_reached_is_said_when_no_host_accepts(
    servers: tuple[ApiServer, ApiServer],
) -> None:
    _us, eu = servers
    with ApiServer() as gone:
        dead = gone.url
    eu.answer = lambda seen: errors_reply(401, "Unauthorized")
    hosts = [ApiEndpoint(dead, Region.US), ApiEndpoint(eu.url, Region.EU)]
    with pytest.raises(PublicApiError) as caught:
        check_token(TOKEN, hosts, retry=FAST)
    assert caught.value.kind is ApiErrorKind.UNREACHABLE
    # ...but a host that cannot be reached does not hide one that accepts.
    eu.answer = lambda seen: json_reply(WORKSPACE)
    assert check_token(TOKEN, hosts, retry=FAST).region is Region.EU


def test_the_sandbox_s_region_is_said_as_a_place(servers: tuple[ApiServer, ApiServer]) -> None:
    us, _eu = servers
    check = check_token(TOKEN, [us.endpoint], retry=FAST)
    assert check.region is Region.LOCAL
    assert "on the sandbox on this computer (127.0.0.1:" in check.describe()


# --- the key's owner ----------------------------------------------------------------------


def test_find_key_owner_walks_every_page(servers: tuple[ApiServer, ApiServer]) -> None:
    server, _ = servers

    def answer(seen: Seen) -> Reply:
        cursor = dict(seen.query).get("pagination.cursor")
        if cursor is None:
            return json_reply(
                {"sources": [source_json(1, key="other")], "pagination": {"next": "2"}}
            )
        return json_reply(
            {"sources": [source_json(2, key=KEY, chatlio=True, name="Chatlio")], "pagination": {}}
        )

    server.answer = answer
    with PublicApiClient(server.endpoint, TOKEN, retry=FAST) as client:
        owner = find_key_owner(client, KEY)
    assert owner.source is not None
    assert owner.source.id == "src-2"
    assert owner.is_chatlio
    assert owner.sources_seen == 2
    assert (
        owner.describe() == 'The key belongs to source "Chatlio", a Chatlio source: the right one.'
    )
    assert KEY not in repr(owner)


def source(key: str | None = KEY, *, chatlio: bool = False) -> Source:
    catalog = (
        CatalogEntry("W3065KyMWF", "chatlio", "Chatlio")
        if chatlio
        else CatalogEntry("IqDTy1TpoU", "javascript", "Javascript")
    )
    keys = (key,) if key else ()
    return Source("s1", "website", "My website", catalog, True, "ws-1", keys)


def test_describe_the_usual_mistake() -> None:
    text = KeyOwner(source(), 3, True).describe()
    assert text.startswith('The key belongs to source "My website", a Javascript source, not')
    assert "usual mistake" in text
    assert "JavaScript source" in text


def test_describe_keys_not_visible_and_not_found() -> None:
    hidden = KeyOwner(None, 4, False).describe()
    assert "cannot see write keys" in hidden
    assert "Source Admin" in hidden
    missing = KeyOwner(None, 1, True).describe()
    assert missing.startswith("None of the workspace's 1 source has this key")
    assert "no sources yet" in KeyOwner(None, 0, True).describe()


def test_a_listing_of_empty_write_keys_means_keys_not_visible(
    servers: tuple[ApiServer, ApiServer],
) -> None:
    server, _ = servers
    server.answer = lambda seen: json_reply({"sources": [source_json(1), source_json(2)]})
    with PublicApiClient(server.endpoint, TOKEN, retry=FAST) as client:
        owner = find_key_owner(client, KEY)
    assert owner == KeyOwner(None, 2, False)


def test_a_key_on_a_source_that_shows_no_keys_is_not_said_missing(
    servers: tuple[ApiServer, ApiServer],
) -> None:
    """Source Admin on some sources only: the key may sit on one whose keys are hidden."""
    server, _ = servers
    listing = {"sources": [source_json(1, key="other-key"), source_json(2), source_json(3)]}
    server.answer = lambda seen: json_reply(listing)
    with PublicApiClient(server.endpoint, TOKEN, retry=FAST) as client:
        owner = find_key_owner(client, KEY)
    assert owner == KeyOwner(None, 3, True, keyless=2)
    words = owner.describe()
    assert words.startswith("None of the 1 source whose write keys the token can see")
    assert "2 sources showed none" in words
    assert "mistyped" not in words


# --- creating the source --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Chatlio", "chatlio"),
        ("  Chatlio \u2013 Live chat (EU site) ", "chatlio-live-chat-eu-site"),
        ("Café chat", "cafe-chat"),
        ("chat_lio 2", "chat_lio-2"),
        ("!!!", "chatlio"),
        ("", "chatlio"),
        ("x" * 200, "x" * 64),
    ],
)
def test_source_slug(name: str, slug: str) -> None:
    assert source_slug(name) == slug


def test_create_reads_the_source_again_for_its_key(servers: tuple[ApiServer, ApiServer]) -> None:
    server, _ = servers

    def answer(seen: Seen) -> Reply:
        keyed = seen.method == "GET"
        body = source_json(7, key=KEY if keyed else None, chatlio=True, name="Chatlio")
        return json_reply({"source": body})

    server.answer = answer
    with PublicApiClient(server.endpoint, TOKEN, retry=FAST) as client:
        created = create_chatlio_source(client, "Chatlio")
    assert created.write_key == KEY
    assert [s.method for s in server.seen] == ["POST", "GET"]
    assert server.seen[1].path.endswith("/sources/src-7")
    assert KEY not in repr(created) + created.describe()


def test_a_created_source_whose_key_cannot_be_read_is_still_said_created(
    servers: tuple[ApiServer, ApiServer],
) -> None:
    server, _ = servers

    def answer(seen: Seen) -> Reply:
        if seen.method == "GET":
            return errors_reply(502, "Bad gateway")
        return json_reply({"source": source_json(7, key=None, chatlio=True, name="Chatlio")})

    server.answer = answer
    with PublicApiClient(server.endpoint, TOKEN, retry=FAST) as client:
        created = create_chatlio_source(client, "Chatlio")
    assert created.write_key is None
    assert created.source.id == "src-7"
    words = created.describe()
    assert words.startswith('Created the Chatlio source "Chatlio"')
    assert "could not be read afterwards" in words
    assert "Copy it by hand" in words
    assert "Source Admin" not in words


def test_create_without_source_admin_says_how_to_copy_the_key(
    servers: tuple[ApiServer, ApiServer],
) -> None:
    server, _ = servers
    server.answer = lambda seen: json_reply({"source": source_json(7, chatlio=True, name="Chat")})
    with PublicApiClient(server.endpoint, TOKEN, retry=FAST) as client:
        created = create_chatlio_source(client, "Chat")
    assert created.write_key is None
    assert len(server.seen) == 2  # the source was read once more, no more
    text = created.describe()
    assert "cannot see write keys (it lacks Source Admin)" in text
    assert "Settings → API Keys" in text


def test_the_new_source_is_given_the_name_asked_for(servers: tuple[ApiServer, ApiServer]) -> None:
    server, _ = servers

    def answer(seen: Seen) -> Reply:
        if seen.method == "PATCH":
            return json_reply({"source": source_json(7, chatlio=True, name="Chatlio")})
        return json_reply({"source": source_json(7, key=KEY, chatlio=True, name="chatlio")})

    server.answer = answer
    with PublicApiClient(server.endpoint, TOKEN, retry=FAST) as client:
        created = create_chatlio_source(client, " Chatlio ")
    assert [s.method for s in server.seen] == ["POST", "PATCH"]
    assert json.loads(server.seen[1].body) == {"name": "Chatlio"}
    assert created.source.name == "Chatlio"
    assert created.write_key == KEY  # kept from the creation's answer


def test_a_refused_rename_keeps_the_source(servers: tuple[ApiServer, ApiServer]) -> None:
    server, _ = servers

    def answer(seen: Seen) -> Reply:
        if seen.method == "PATCH":
            return errors_reply(422, "name not allowed")
        return json_reply({"source": source_json(7, key=KEY, chatlio=True, name="chatlio")})

    server.answer = answer
    with PublicApiClient(server.endpoint, TOKEN, retry=FAST) as client:
        created = create_chatlio_source(client, "Chatlio")
    assert created.source.name == "chatlio"
    assert created.write_key == KEY


def test_a_source_that_exists_is_a_conflict(servers: tuple[ApiServer, ApiServer]) -> None:
    server, _ = servers
    server.answer = lambda seen: errors_reply(409, "slug already taken")
    with (
        PublicApiClient(server.endpoint, TOKEN, retry=FAST) as client,
        pytest.raises(PublicApiError) as caught,
    ):
        create_chatlio_source(client, "Chatlio")
    assert caught.value.kind is ApiErrorKind.CONFLICT
    assert "already exists" in caught.value.sentence
    assert len(server.seen) == 1


# --- connections -----------------------------------------------------------------------------


def test_connections_are_listed_in_words(servers: tuple[ApiServer, ApiServer]) -> None:
    server, _ = servers

    def answer(seen: Seen) -> Reply:
        if seen.path.endswith("connected-destinations"):
            return json_reply(
                {
                    "destinations": [
                        {"id": "d1", "name": "GA4", "enabled": True, "metadata": {"name": "GA"}},
                        {
                            "id": "d2",
                            "name": "",
                            "enabled": False,
                            "metadata": {"name": "Mixpanel"},
                        },
                    ]
                }
            )
        return json_reply(
            {"warehouses": [{"id": "w1", "enabled": True, "metadata": {"name": "Postgres"}}]}
        )

    server.answer = answer
    with PublicApiClient(server.endpoint, TOKEN, retry=FAST) as client:
        connections = source_connections(client, "src-1")
    assert connections.describe() == (
        "Sends to 2 destinations (GA4, Mixpanel (off)) and 1 warehouse (Postgres). Those "
        "marked (off) are turned off in Segment and receive nothing."
    )


def test_no_connections() -> None:
    assert "no destination or warehouse" in SourceConnections((), ()).describe()
    one = SourceConnections((), (Connection("w", "Snowflake", True, "Snowflake"),))
    assert one.describe() == "Sends to 1 warehouse (Snowflake)."


# --- the CDN ---------------------------------------------------------------------------------


def cdn_url(server: ApiServer) -> str:
    return server.url.removesuffix("/public-api")


@pytest.mark.parametrize(
    ("reply", "answer"),
    [
        (Reply(200, b'{"integrations": {"Segment.io": {}}}'), CdnAnswer.KNOWN),
        (Reply(404, b"Invalid path or write key provided."), CdnAnswer.UNCONFIRMED),
        (Reply(200, b"<html>hello</html>"), CdnAnswer.UNCONFIRMED),
        (Reply(200, b"{}"), CdnAnswer.UNCONFIRMED),
        (Reply(500, b"oops"), CdnAnswer.UNCONFIRMED),
    ],
)
def test_cdn_lookup(
    servers: tuple[ApiServer, ApiServer],
    caplog: pytest.LogCaptureFixture,
    reply: Reply,
    answer: CdnAnswer,
) -> None:
    caplog.set_level(logging.DEBUG)
    server, _ = servers
    server.answer = lambda seen: reply
    check = cdn_lookup(KEY, base_url=cdn_url(server))
    assert check.answer is answer
    assert server.seen[0].path == f"/v1/projects/{KEY}/settings"
    assert KEY not in check.sentence + check.technical + repr(check) + caplog.text
    assert "pl…6c" in check.technical
    if answer is CdnAnswer.UNCONFIRMED:
        assert "does not mean the key is wrong" in check.sentence
    else:
        assert check.sentence.startswith("Segment knows this key")


def test_cdn_lookup_never_raises() -> None:
    with ApiServer() as gone:
        url = cdn_url(gone)
    check = cdn_lookup(KEY, base_url=url)
    assert check.answer is CdnAnswer.UNCONFIRMED
    assert "could not be reached" in check.sentence
    unusable = cdn_lookup(KEY, proxy=ProxyChoice(ProxyMode.MANUAL, "socks4://127.0.0.1:9"))
    assert unusable.answer is CdnAnswer.UNCONFIRMED
    assert cdn_lookup("  ").answer is CdnAnswer.UNCONFIRMED


def test_token_check_records_hide_nothing_secret() -> None:
    check = TokenCheck(Workspace("w", "s", "n"), ApiEndpoint("https://x.example", Region.CUSTOM))
    assert "on x.example" in check.describe()
