"""Copy buttons for the warehouse SQL (app.warehouse_sql): pick the warehouse, check the schema,
copy the starter queries or the table list; and a window that shows all of it."""

from __future__ import annotations

from PySide6.QtCore import QRegularExpression, QSize, Signal, Slot
from PySide6.QtGui import QFontDatabase, QGuiApplication, QRegularExpressionValidator
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.ui.page_kit import Kind, Notice
from app.warehouse_sql import (
    DIALECTS,
    SCHEMA_NAME,
    Dialect,
    Query,
    everything_text,
    queries,
    queries_text,
    suggested_schema,
    tables_text,
)


class WarehouseSqlBox(QGroupBox):
    """The warehouse, the schema, and buttons that copy what a person pastes into the warehouse.

    Signals: changed() — the warehouse or the schema changed.
    """

    changed = Signal()

    def __init__(self, source_name: str, parent: QWidget | None = None) -> None:
        super().__init__("SQL for your warehouse", parent)
        self.setObjectName("warehouse_sql")
        self.warehouse = QComboBox()
        self.warehouse.setObjectName("sql_warehouse")
        self.warehouse.setAccessibleName("Warehouse")
        for key, dialect in DIALECTS.items():
            self.warehouse.addItem(dialect.name, key)
        self.warehouse.currentIndexChanged.connect(self.on_changed)
        self.schema = QLineEdit()
        self.schema.setObjectName("sql_schema")
        self.schema.setAccessibleName("Schema")
        self.schema.setToolTip(
            "The source's schema, as Segment's SQL Settings show it: Segment suggests one from "
            "the source's name, and the settings can change it."
        )
        self.schema.setValidator(
            QRegularExpressionValidator(QRegularExpression(SCHEMA_NAME.pattern))
        )

        copy_queries = QPushButton("Copy the starter &queries")
        copy_queries.setObjectName("copy_queries")
        copy_queries.setAccessibleName("Copy the starter queries")
        copy_queries.setAutoDefault(False)
        copy_queries.clicked.connect(self.on_copy_queries_clicked)
        self._one_query = QPushButton("Copy &one query")
        self._one_query.setObjectName("copy_one_query")
        self._one_query.setAccessibleName("Copy one of the starter queries")
        self._one_query.setAutoDefault(False)
        self._menu = QMenu(self._one_query)
        self._menu.aboutToShow.connect(self.on_menu_about_to_show)
        self._one_query.setMenu(self._menu)
        copy_tables = QPushButton("Copy the &table list")
        copy_tables.setObjectName("copy_tables")
        copy_tables.setAccessibleName("Copy the tables and columns")
        copy_tables.setAutoDefault(False)
        copy_tables.clicked.connect(self.on_copy_tables_clicked)
        self.buttons = [copy_queries, self._one_query, copy_tables]

        self.notice = Notice()
        self.notice.setObjectName("sql_notice")
        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        form.addRow("&Warehouse:", self.warehouse)
        form.addRow("Sche&ma:", self.schema)
        row = QHBoxLayout()
        for button in self.buttons:
            row.addWidget(button)
        row.addStretch()
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(row)
        layout.addWidget(self.notice)
        self.set_source(source_name)
        self.schema.textChanged.connect(self.on_changed)

    def set_source(self, source_name: str) -> None:
        self.schema.setText(suggested_schema(source_name))

    def dialect(self) -> Dialect:
        return DIALECTS[str(self.warehouse.currentData())]

    def schema_name(self) -> str | None:
        """The schema typed, when it is a plain name; None while it is not."""
        text = self.schema.text().strip()
        return text if SCHEMA_NAME.fullmatch(text) else None

    @Slot()
    def on_changed(self) -> None:
        valid = self.schema_name() is not None
        for button in self.buttons:
            button.setEnabled(valid)
        if valid:
            self.notice.clear()
        else:
            self.notice.show_message(
                Kind.WARNING,
                "Type the schema's name: letters, digits and _, as Segment's SQL Settings "
                "show it (like chatlio).",
            )
        self.changed.emit()

    def _copy(self, text: str, what: str) -> None:
        QGuiApplication.clipboard().setText(text)
        schema = self.dialect().name_of(self.schema_name() or "")
        self.notice.show_message(
            Kind.OK,
            f"Copied {what} for {self.dialect().name} (schema {schema}): paste it into the "
            "warehouse's query editor.",
        )

    @Slot()
    def on_copy_queries_clicked(self) -> None:
        schema = self.schema_name()
        if schema is not None:
            self._copy(queries_text(self.dialect(), schema) + "\n", "the 4 starter queries")

    @Slot()
    def on_copy_tables_clicked(self) -> None:
        schema = self.schema_name()
        if schema is not None:
            self._copy(tables_text(self.dialect(), schema) + "\n", "the tables and columns")

    @Slot()
    def on_menu_about_to_show(self) -> None:
        self._menu.clear()
        schema = self.schema_name()
        if schema is None:
            return
        for query in queries(self.dialect(), schema):
            action = self._menu.addAction(query.title)
            action.setToolTip(query.description)
            action.triggered.connect(lambda _checked=False, q=query: self._copy_one(q))

    def _copy_one(self, query: Query) -> None:
        self._copy(f"-- {query.title}\n{query.sql};\n", f"“{query.title}”")


class WarehouseSqlDialog(QDialog):
    """Setup ▸ Warehouse SQL…: the box, and everything it copies shown in full."""

    def __init__(self, source_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("warehouse_sql_dialog")
        self.setWindowTitle("Warehouse SQL")
        self.box = WarehouseSqlBox(source_name)
        self.preview = QPlainTextEdit()
        self.preview.setObjectName("sql_preview")
        self.preview.setAccessibleName("The tables and starter queries")
        self.preview.setReadOnly(True)
        self.preview.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.preview.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.box.changed.connect(self.on_box_changed)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.box)
        layout.addWidget(self.preview, 1)
        layout.addWidget(close)
        self.setMinimumSize(QSize(560, 420))
        self.resize(QSize(820, 640))
        self.on_box_changed()

    @Slot()
    def on_box_changed(self) -> None:
        schema = self.box.schema_name()
        if schema is not None:
            self.preview.setPlainText(everything_text(self.box.dialect(), schema))
