"""A preview of the schema, tables and columns the Live Chat events create in a warehouse."""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.chatlio import EVENTS, PROPERTIES, EventSpec, JsonType

# One word: capitals (or digits), then lower-case letters (or digits): "Text", "EU", "2", "base64".
_WORD = re.compile(r"[A-Z0-9]*[a-z0-9]*")
# Only ASCII letters and digits count: Segment's function works on bytes, so accented letters and
# every other character merely separate words.
_RUN = re.compile(r"[A-Za-z0-9]+")

TYPE_TEXT = "varchar"
TYPE_INTEGER = "bigint"
TYPE_TIME = "timestamp"

_JSON_TO_COLUMN: dict[JsonType, str] = {"string": TYPE_TEXT, "integer": TYPE_INTEGER}


def snake_case(name: str) -> str:
    """Segment's warehouse name for `name`, after its `segmentio/go-snakecase` function.

    Letters and digits split into words at every other character and wherever a lower-case
    letter is followed by a capital; a run of capitals stays one word ("EU"). Words are
    lower-cased and joined with "_":

        "Live Chat Message Sent" -> "live_chat_message_sent"
        "conversationId"         -> "conversation_id"
        "Chatlio EU-2"           -> "chatlio_eu_2"

    Only ASCII letters and digits survive. Two corner cases of the Go function are left out for
    simplicity: it returns an already snake-cased name with a leading "_" unchanged, and when a
    lower-case start ends in a digit followed by a capital it moves that digit into the next word
    ("abc1D" -> "abc_1d", here "abc1_d"). Neither occurs in Chatlio's names.
    """
    words = (word for run in _RUN.findall(name) for word in _WORD.findall(run) if word)
    return "_".join(words).lower()


def schema_name(source_name: str) -> str:
    """The schema Segment proposes for a source named `source_name` ("Chatlio" -> "chatlio").

    Segment seeds the schema from the source name, lower-case; its exact rule for spaces and
    punctuation is not documented, so this uses `snake_case`. Segment's SQL Settings let the
    user change the name, so show it as an editable suggestion, not a fact.
    """
    return snake_case(source_name)


@dataclass(frozen=True)
class Column:
    """One warehouse column: its name, a generic type name, and what it holds."""

    name: str
    type: str
    description: str


@dataclass(frozen=True)
class Table:
    """One warehouse table: its name, what a row is, and its columns."""

    name: str
    description: str
    columns: tuple[Column, ...]


STANDARD_COLUMNS: tuple[Column, ...] = (
    Column("id", TYPE_TEXT, "Segment's messageId for the event."),
    Column("anonymous_id", TYPE_TEXT, "The visitor's anonymous id."),
    Column("user_id", TYPE_TEXT, "The visitor's user id, if known."),
    Column("event", TYPE_TEXT, "The event name, snake-cased."),
    Column("event_text", TYPE_TEXT, "The event name as sent."),
    Column("received_at", TYPE_TIME, "When Segment received the event."),
    Column("sent_at", TYPE_TIME, "When the sender sent the event."),
    Column("timestamp", TYPE_TIME, "When the event happened, corrected for clock skew."),
    Column("original_timestamp", TYPE_TIME, "When the event happened, as sent."),
    Column("uuid_ts", TYPE_TIME, "When the row was loaded into the warehouse."),
    Column("context_library_name", TYPE_TEXT, "The library that sent the event."),
    Column("context_library_version", TYPE_TEXT, "That library's version."),
)


def _first_sentence(text: str) -> str:
    return text.split(". ", 1)[0].rstrip(".") + "."


def _event_table(spec: EventSpec) -> Table:
    columns = tuple(
        Column(
            snake_case(name),
            _JSON_TO_COLUMN[PROPERTIES[name].json_type],
            _first_sentence(PROPERTIES[name].description),
        )
        for name in spec.properties
    )
    return Table(
        snake_case(spec.name),
        f"One row per {spec.name} event.",
        STANDARD_COLUMNS + columns,
    )


def preview(source_name: str) -> list[Table]:
    """The tables the four Live Chat events create: one per event, then the shared `tracks`.

    Types are generic names ("varchar", "bigint", "timestamp"); each warehouse uses its own
    (Snowflake says VARCHAR and NUMBER, BigQuery STRING and INTEGER, Redshift VARCHAR and BIGINT).
    The source name only names the source in `tracks`' description; the schema the tables live
    in comes from `schema_name`.
    """
    source = f"the {source_name.strip()} source" if source_name.strip() else "this source"
    tracks = Table("tracks", f"One row per event of any name from {source}.", STANDARD_COLUMNS)
    return [*(_event_table(spec) for spec in EVENTS), tracks]


def qualified(table: Table, schema: str) -> str:
    """The table's full name for SQL: 'chatlio.live_chat_message_sent'."""
    return f"{schema}.{table.name}"
