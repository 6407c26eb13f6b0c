"""The warehouse SQL's copy buttons, driven like a user drives them: real widgets, the real
clipboard."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import QApplication, QPushButton
from pytestqt.qtbot import QtBot

from app.ui.main_window import MainWindow
from app.ui.page_kit import Kind
from app.ui.warehouse_sql_box import WarehouseSqlBox, WarehouseSqlDialog
from app.warehouse_sql import BIGQUERY, POSTGRES, SNOWFLAKE, queries, queries_text, tables_text
from tests.gui_helpers import child, make_session, shown


def clipboard() -> str:
    return QGuiApplication.clipboard().text()


def click(box: WarehouseSqlBox, name: str, qtbot: QtBot) -> None:
    qtbot.mouseClick(child(box, QPushButton, name), Qt.MouseButton.LeftButton)


def test_copy_the_queries_and_the_tables_for_the_chosen_warehouse(qtbot: QtBot) -> None:
    box = shown(qtbot, WarehouseSqlBox("Chatlio"), 600, 200)
    assert box.schema.text() == "chatlio"
    click(box, "copy_queries", qtbot)
    assert clipboard() == queries_text(POSTGRES, "chatlio") + "\n"
    assert box.notice.kind is Kind.OK
    assert "Copied the 4 starter queries for PostgreSQL (schema chatlio)" in box.notice.text()
    box.warehouse.setCurrentIndex(box.warehouse.findText("Snowflake"))
    click(box, "copy_tables", qtbot)
    assert clipboard() == tables_text(SNOWFLAKE, "chatlio") + "\n"
    assert "(schema CHATLIO)" in box.notice.text()


def test_copy_one_query(qtbot: QtBot) -> None:
    box = shown(qtbot, WarehouseSqlBox("Chatlio"), 600, 200)
    box.warehouse.setCurrentIndex(box.warehouse.findText("BigQuery"))
    box.on_menu_about_to_show()  # what opening the button's menu does
    menu = child(box, QPushButton, "copy_one_query").menu()
    assert menu is not None
    titles = [action.text() for action in menu.actions()]
    expected = queries(BIGQUERY, "chatlio")
    assert titles == [q.title for q in expected]
    menu.actions()[1].trigger()
    assert clipboard() == f"-- {expected[1].title}\n{expected[1].sql};\n"
    assert "“Median conversation length”" in box.notice.text()


def test_the_schema_follows_the_source_and_must_be_a_plain_name(qtbot: QtBot) -> None:
    box = shown(qtbot, WarehouseSqlBox("Chatlio EU 2"), 600, 200)
    assert box.schema.text() == "chatlio_eu_2"
    box.set_source("2026 chats")  # Segment's suggestion would start with a digit
    assert box.schema.text() == "chatlio"
    box.schema.clear()
    assert not any(button.isEnabled() for button in box.buttons)
    assert box.notice.kind is Kind.WARNING
    qtbot.keyClicks(box.schema, "chat-lio")  # the dash is refused as it is typed
    assert box.schema.text() == "chatlio"
    assert all(button.isEnabled() for button in box.buttons)
    assert box.notice.kind is None


def test_the_dialog_shows_what_it_copies(qtbot: QtBot) -> None:
    dialog = shown(qtbot, WarehouseSqlDialog("Chatlio"), 820, 640)
    assert "chatlio.live_chat_conversation_ended" in dialog.preview.toPlainText()
    dialog.box.warehouse.setCurrentIndex(dialog.box.warehouse.findText("Snowflake"))
    assert "CHATLIO.LIVE_CHAT_CONVERSATION_ENDED" in dialog.preview.toPlainText()


def test_the_main_window_opens_it_from_the_setup_menu(qtbot: QtBot, tmp_path: Path) -> None:
    session = make_session(tmp_path)
    session.settings.key_storage = "sandbox"
    window = shown(qtbot, MainWindow(session), 1000, 700)
    action = window.findChild(QAction, "action_warehouse_sql")
    assert action is not None
    action.trigger()
    dialog = next(w for w in QApplication.topLevelWidgets() if isinstance(w, WarehouseSqlDialog))
    assert dialog.isVisible()
    assert dialog.box.schema.text() == "chatlio"
    dialog.close()
    session.close()
