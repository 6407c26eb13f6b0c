"""The wizard never shows an answer about another key, token or mode: a key changed while its
check runs, a token replaced, the sandbox left after creating a source there."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtWidgets import QCheckBox, QLabel, QTreeWidget, QWidget
from pytestqt.qtbot import QtBot

from app.segment.endpoint import Region
from app.segment.public_api.hosts import ApiEndpoint
from app.segment.sandbox import Sandbox
from app.ui.api_task import ApiTask
from app.ui.page_kit import Kind
from app.ui.pages import write_key
from app.ui.wizard import PageId, SetupWizard
from tests.public_api_server import WORKSPACE, ApiServer, Reply, Seen, json_reply, source_json
from tests.test_wizard import button, choose_region, click, go_next
from tests.test_wizard_public_api import (
    WEBSITE_KEY,
    enter_token,
    make_wizard,
    notice_kind,
    page_notice,
    tick_chatlio,
    to_source_page,
    use_key,
)

CHATLIO_KEY = "key-chatlio-0001"
OTHER_KEY = "key-website-0002"
BLIND_TOKEN = "sgp_T1" + "a" * 40  # sees no write keys
ADMIN_TOKEN = "sgp_T2" + "b" * 40  # Source Admin


def keyed_server(delay: float = 0.0) -> Callable[[Seen], Reply]:
    """A workspace whose write keys only ADMIN_TOKEN sees; CHATLIO_KEY is its Chatlio source's."""

    def answer(seen: Seen) -> Reply:
        path = seen.path.removeprefix("/public-api")
        if path in ("", "/"):
            return json_reply(WORKSPACE)
        visible = ADMIN_TOKEN in seen.headers.get("authorization", "")
        sources = [
            source_json(1, key=CHATLIO_KEY if visible else None, chatlio=True, name="Chatlio"),
            source_json(2, key=OTHER_KEY if visible else None, name="Website"),
        ]
        page = {"current": "MA==", "next": None, "totalEntries": 2}
        reply = json_reply({"sources": sources, "pagination": page})
        return Reply(reply.status, reply.body, reply.headers, delay=delay)

    return answer


def owner_task(wizard: SetupWizard) -> ApiTask:
    found = wizard.currentPage().findChild(ApiTask, "owner_task")
    assert found is not None
    return found


def test_a_new_token_asks_again_whose_key_it_is(qtbot: QtBot, tmp_path: Path) -> None:
    with ApiServer(keyed_server()) as server:
        wizard = make_wizard(qtbot, tmp_path, (ApiEndpoint(server.url, Region.US),))
        choose_region(qtbot, wizard, "us")
        enter_token(qtbot, wizard, "use_token", BLIND_TOKEN)
        to_source_page(qtbot, wizard)
        go_next(qtbot, wizard)
        use_key(qtbot, wizard, CHATLIO_KEY)
        owner = page_notice(wizard, "owner_notice")
        qtbot.waitUntil(lambda: "cannot see write keys" in owner.text(), timeout=20_000)
        wizard.back()
        wizard.back()
        assert wizard.currentId() == PageId.WELCOME
        enter_token(qtbot, wizard, "use_token", ADMIN_TOKEN)
        go_next(qtbot, wizard)
        go_next(qtbot, wizard)
        assert wizard.currentId() == PageId.WRITE_KEY
        owner = page_notice(wizard, "owner_notice")
        qtbot.waitUntil(lambda: "the right one" in owner.text(), timeout=20_000)
        wizard.discard()


def test_an_answer_about_the_previous_key_is_never_shown(qtbot: QtBot, tmp_path: Path) -> None:
    with ApiServer(keyed_server(delay=1.5)) as server:
        wizard = make_wizard(qtbot, tmp_path, (ApiEndpoint(server.url, Region.US),))
        choose_region(qtbot, wizard, "us")
        enter_token(qtbot, wizard, "use_token", ADMIN_TOKEN)
        to_source_page(qtbot, wizard)
        go_next(qtbot, wizard)
        use_key(qtbot, wizard, CHATLIO_KEY)
        owner, task = page_notice(wizard, "owner_notice"), owner_task(wizard)
        assert task.is_running()
        use_key(qtbot, wizard, OTHER_KEY)  # while the first key is still being checked
        seen: list[str] = []

        def answered() -> bool:
            seen.append(owner.text())
            return "Website" in owner.text()

        qtbot.waitUntil(answered, timeout=20_000)
        assert not [text for text in seen if "the right one" in text], seen
        wizard.discard()


def test_the_cdn_answer_goes_when_the_key_changes(
    qtbot: QtBot, tmp_path: Path, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(write_key.CdnLookupDialog, "ask", classmethod(lambda cls, parent: True))
    wizard = make_wizard(qtbot, tmp_path, cdn_url=sandbox.cdn_url)
    to_source_page(qtbot, wizard)
    go_next(qtbot, wizard)
    use_key(qtbot, wizard, WEBSITE_KEY)
    owner = page_notice(wizard, "owner_notice")
    click(qtbot, button(wizard, "cdn_lookup"))
    qtbot.waitUntil(lambda: "Segment knows this key" in owner.text(), timeout=20_000)
    use_key(qtbot, wizard, "an-unknown-key-of-no-source-here")
    qtbot.waitUntil(lambda: "Segment knows this key" not in owner.text())
    wizard.discard()


def test_finish_does_not_say_no_token_in_the_sandbox(qtbot: QtBot, tmp_path: Path) -> None:
    wizard = make_wizard(qtbot, tmp_path)
    click(qtbot, button(wizard, "try_sandbox"))
    assert wizard.currentId() == PageId.TEST
    while wizard.currentId() != PageId.FINISH:
        tick_chatlio(qtbot, wizard)
        go_next(qtbot, wizard)
    summary = wizard.currentPage().findChild(QLabel, "summary_owner")
    assert summary is not None
    assert "no Public API token" not in summary.text()
    wizard.discard()


def test_leaving_the_sandbox_drops_its_source_and_connections(qtbot: QtBot, tmp_path: Path) -> None:
    wizard = make_wizard(qtbot, tmp_path, sandbox_mode=True)
    enter_token(qtbot, wizard, "use_token", "")
    go_next(qtbot, wizard)
    click(qtbot, button(wizard, "create_source"))
    notice = page_notice(wizard, "create_notice")
    qtbot.waitUntil(lambda: notice_kind(notice) is Kind.OK, timeout=20_000)
    assert wizard.draft.source_id() is not None
    go_next(qtbot, wizard)
    while wizard.currentId() != PageId.DESTINATIONS:
        tick_chatlio(qtbot, wizard)
        go_next(qtbot, wizard)
    sandbox_list = wizard.currentPage().findChild(QTreeWidget, "connected_list")
    assert sandbox_list is not None
    qtbot.waitUntil(lambda: sandbox_list.topLevelItemCount() > 0, timeout=20_000)
    while wizard.currentId() != PageId.WRITE_KEY:
        wizard.back()
    sandbox_box = wizard.currentPage().findChild(QCheckBox, "sandbox")
    assert sandbox_box is not None
    sandbox_box.setChecked(False)
    assert wizard.draft.source_id() is None, "the sandbox's source is not the real one"
    use_key(qtbot, wizard, "a-real-key-typed-here-1234")
    while wizard.currentId() != PageId.DESTINATIONS:
        tick_chatlio(qtbot, wizard)
        go_next(qtbot, wizard)
    page: QWidget = wizard.currentPage()
    listed = page.findChild(QTreeWidget, "connected_list")
    assert listed is not None
    assert listed.topLevelItemCount() == 0
    assert not listed.isVisible()
    wizard.discard()
