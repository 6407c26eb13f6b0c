"""The Live Chat tables as four warehouses spell them, and starter queries for each.

Segment loads each source into its own schema (`app.segment.warehouse`): one table per event and
the shared `tracks`. PostgreSQL and Redshift fold names to lower case, Snowflake to upper case;
BigQuery calls the schema a dataset and quotes names with backticks. Column types are what
Segment usually creates (UNCLEAR: its docs do not list them per warehouse, so the output says
that the warehouse's own column list is the final word).

The queries hold for both shapes of a real Chatlio event (the Live Chat spec's, and the leaner
one) and for rows loaded twice: they count distinct ids, and take a conversation's length as
the largest `conversation_duration` its Ended event carries.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass

from app.chatlio import (
    CONVERSATION_ENDED,
    EVENTS,
    MESSAGE_RECEIVED,
    MESSAGE_SENT,
)
from app.segment.warehouse import (
    TYPE_INTEGER,
    TYPE_TEXT,
    TYPE_TIME,
    Column,
    preview,
    schema_name,
    snake_case,
)

DEFAULT_SOURCE = "Chatlio"
WIDTH = 100
# What Segment makes of a source name (app.segment.warehouse.schema_name), and what a person
# may have renamed it to in Segment's SQL Settings.
SCHEMA_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,126}")


@dataclass(frozen=True)
class Dialect:
    """How one warehouse spells names, types, a day and a median."""

    key: str  # for the command line: "postgres"
    name: str  # for people: "PostgreSQL"
    types: dict[str, str]  # the generic type names of app.segment.warehouse -> this warehouse's
    upper: bool  # names folded to upper case (Snowflake)
    quote: str  # the identifier quote, for a name that is also a keyword (timestamp)
    day: Callable[[str], str]  # a timestamp column -> its calendar day
    median: Callable[[str], str]  # a column -> its median, as an aggregate (or a window)
    median_is_window: bool = False

    def name_of(self, name: str) -> str:
        name = name.upper() if self.upper else name
        return f"{self.quote}{name}{self.quote}" if name.lower() in _KEYWORDS else name

    def table(self, schema: str, table: str) -> str:
        qualified = f"{self.name_of(schema)}.{self.name_of(table)}"
        return f"`{qualified}`" if self.quote == "`" else qualified


# Column names Segment uses that are also SQL keywords somewhere: always quoted.
_KEYWORDS = {"timestamp"}

POSTGRES = Dialect(
    "postgres",
    "PostgreSQL",
    {TYPE_TEXT: "text", TYPE_INTEGER: "bigint", TYPE_TIME: "timestamp with time zone"},
    upper=False,
    quote='"',
    day=lambda column: f"CAST(date_trunc('day', {column}) AS date)",
    median=lambda column: f"percentile_cont(0.5) WITHIN GROUP (ORDER BY {column})",
)
REDSHIFT = Dialect(
    "redshift",
    "Redshift",
    {TYPE_TEXT: "varchar", TYPE_INTEGER: "bigint", TYPE_TIME: "timestamp"},
    upper=False,
    quote='"',
    day=lambda column: f"CAST(date_trunc('day', {column}) AS date)",
    median=lambda column: f"median({column})",
)
SNOWFLAKE = Dialect(
    "snowflake",
    "Snowflake",
    {TYPE_TEXT: "VARCHAR", TYPE_INTEGER: "NUMBER", TYPE_TIME: "TIMESTAMP_TZ"},
    upper=True,
    quote='"',
    day=lambda column: f"TO_DATE({column})",
    median=lambda column: f"MEDIAN({column})",
)
BIGQUERY = Dialect(
    "bigquery",
    "BigQuery",
    {TYPE_TEXT: "STRING", TYPE_INTEGER: "INT64", TYPE_TIME: "TIMESTAMP"},
    upper=False,
    quote="`",
    day=lambda column: f"DATE({column})",
    median=lambda column: f"PERCENTILE_CONT({column}, 0.5) OVER ()",
    median_is_window=True,
)
DIALECTS: dict[str, Dialect] = {d.key: d for d in (POSTGRES, REDSHIFT, SNOWFLAKE, BIGQUERY)}


@dataclass(frozen=True)
class Query:
    """One starter query: what it answers, and its SQL."""

    title: str
    description: str
    sql: str


class SchemaNameError(ValueError):
    """A schema name that is not a plain warehouse name, in a sentence."""


def check_schema(schema: str) -> str:
    """`schema` if it is a plain warehouse name (letters, digits, _; not starting with a digit),
    the only kind Segment makes; raises SchemaNameError otherwise. It is pasted into SQL."""
    if not SCHEMA_NAME.fullmatch(schema):
        raise SchemaNameError(
            "A schema name is letters, digits and _ (not starting with a digit), at most 127 "
            "characters, like chatlio: the name Segment's SQL Settings show for the source."
        )
    return schema


def tables_text(dialect: Dialect, schema: str) -> str:
    """The tables and their columns as SQL comments: what to look for, never to run."""
    schema = check_schema(schema)
    tables = preview(DEFAULT_SOURCE)
    *events, tracks = tables
    standard = len(tracks.columns)

    def columns(table_columns: tuple[Column, ...]) -> list[str]:
        width = max(
            len(dialect.name_of(c.name)) + len(dialect.types[c.type]) for c in table_columns
        )
        return [
            f"--   {dialect.name_of(c.name)} {dialect.types[c.type]}".ljust(width + 8)
            + f"{c.description}"
            for c in table_columns
        ]

    lines = _comment(
        f"The tables the four Live Chat events create in {dialect.name}, in schema "
        f"{dialect.name_of(schema)}. Segment creates them and adds a column when an event first "
        "brings it; the types are those Segment usually gives, and your warehouse's own column "
        "list is the final word."
    )
    lines += [f"--   {dialect.table(schema, t.name)}: one row per event" for t in events]
    lines.append(f"--   {dialect.table(schema, tracks.name)}: every event of the source, any name")
    lines.append("-- Every one of them has:")
    lines += columns(tracks.columns)
    lines.append("-- The four Live Chat tables add:")
    lines += columns(events[0].columns[standard:])
    return "\n".join(lines)


def _comment(text: str) -> list[str]:
    return textwrap.wrap(text, WIDTH, initial_indent="-- ", subsequent_indent="-- ")


def queries(dialect: Dialect, schema: str) -> list[Query]:
    """The starter queries: per agent per day, the median length, messages, who chatted.

    Every name in them is this module's own or a checked schema name (`check_schema`), so
    building them with f-strings is safe (ruff's S608 is silenced for that reason).
    """
    schema = check_schema(schema)

    def t(event_or_table: str) -> str:
        return dialect.table(schema, snake_case(event_or_table))

    def c(column: str) -> str:
        return dialect.name_of(column)

    ended, sent, received = (
        t(e.name) for e in (CONVERSATION_ENDED, MESSAGE_SENT, MESSAGE_RECEIVED)
    )
    conversation, duration = c("conversation_id"), c("conversation_duration")
    lengths = (
        f"WITH {c('lengths')} AS (\n"  # noqa: S608 - see the docstring
        f"  SELECT {conversation}, MAX({duration}) AS {c('seconds')}\n"
        f"  FROM {ended}\n"
        f"  WHERE {duration} IS NOT NULL\n"
        f"  GROUP BY {conversation}\n"
        ")\n"
    )
    seconds = c("seconds")
    # A median that is a window (BigQuery) needs the count as one too, and one row of each.
    select, over = ("SELECT DISTINCT", " OVER ()") if dialect.median_is_window else ("SELECT", "")
    median = (
        f"{lengths}{select}\n"
        f"  COUNT(*){over} AS {c('conversations')},\n"
        f"  {dialect.median(seconds)} AS {c('median_seconds')}\n"
        f"FROM {c('lengths')}"
    )
    day = c("chat_day")
    per_agent = (
        f"SELECT\n"
        f"  {dialect.day(c('timestamp'))} AS {day},\n"
        f"  {c('agent_id')},\n"
        f"  MAX({c('agent_name')}) AS {c('agent_name')},\n"
        f"  COUNT(DISTINCT {conversation}) AS {c('conversations')}\n"
        f"FROM {ended}\n"
        f"GROUP BY {dialect.day(c('timestamp'))}, {c('agent_id')}\n"
        f"ORDER BY {day}, {c('agent_id')}"
    )
    sender, message = c("sender"), c("id")
    messages = (
        f"WITH {c('messages')} AS (\n"  # noqa: S608 - see the docstring
        f"  SELECT {conversation}, {message}, 'visitor' AS {sender} FROM {sent}\n"
        f"  UNION ALL\n"
        f"  SELECT {conversation}, {message}, 'agent' AS {sender} FROM {received}\n"
        ")\n"
        f"SELECT\n"
        f"  {conversation},\n"
        f"  COUNT(DISTINCT CASE WHEN {sender} = 'visitor' THEN {message} END) AS "
        f"{c('from_visitor')},\n"
        f"  COUNT(DISTINCT CASE WHEN {sender} = 'agent' THEN {message} END) AS "
        f"{c('from_agent')},\n"
        f"  COUNT(DISTINCT {message}) AS {c('messages')}\n"
        f"FROM {c('messages')}\n"
        f"GROUP BY {conversation}\n"
        f"ORDER BY {c('messages')} DESC, {conversation}"
    )
    quoted = [f"'{snake_case(e.name)}'" for e in EVENTS]
    names = f"{quoted[0]}, {quoted[1]},\n  {quoted[2]}, {quoted[3]}"
    visitor = c("visitor")
    visitors = (
        f"SELECT\n"
        f"  COALESCE({c('user_id')}, {c('anonymous_id')}) AS {visitor},\n"
        f"  MIN({c('timestamp')}) AS {c('first_chat')},\n"
        f"  COUNT(DISTINCT {message}) AS {c('chat_events')}\n"
        f"FROM {t('tracks')}\n"
        f"WHERE {c('event')} IN (\n  {names}\n)\n"
        f"GROUP BY COALESCE({c('user_id')}, {c('anonymous_id')})\n"
        f"ORDER BY {c('first_chat')}"
    )
    return [
        Query(
            "Conversations per agent per day",
            "How many conversations each agent ended each day (from the Ended events).",
            per_agent,
        ),
        Query(
            "Median conversation length",
            "How many conversations have a length, and their median length in seconds.",
            median,
        ),
        Query(
            "Messages per conversation",
            "Each conversation's messages: from the visitor, from the agent, in all.",
            messages,
        ),
        Query(
            "Visitors who chatted",
            "Every visitor with a Live Chat event (through tracks): their first chat and how "
            "many chat events they have. Join it to tracks or pages for what they did around it.",
            visitors,
        ),
    ]


def queries_text(dialect: Dialect, schema: str) -> str:
    """Every starter query, each under a comment saying what it answers, ready to paste."""
    return "\n\n".join(_query_text(query) for query in queries(dialect, schema))


def _query_text(query: Query) -> str:
    return "\n".join([f"-- {query.title}", *_comment(query.description), f"{query.sql};"])


def everything_text(dialect: Dialect, schema: str) -> str:
    """What `sql` prints: the tables, then the queries."""
    return f"{tables_text(dialect, schema)}\n\n{queries_text(dialect, schema)}\n"


def suggested_schema(source_name: str) -> str:
    """Segment's suggestion for the source's schema ('Chatlio' -> 'chatlio') when it is a plain
    name; else the default source's."""
    schema = schema_name(source_name.strip())
    return schema if SCHEMA_NAME.fullmatch(schema) else schema_name(DEFAULT_SOURCE)
