"""The four Chatlio Live Chat events, their six properties, and a realistic test conversation."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

JsonType = Literal["string", "integer"]


@dataclass(frozen=True)
class PropertySpec:
    """One property Chatlio puts on its Live Chat events."""

    name: str
    json_type: JsonType
    description: str


@dataclass(frozen=True)
class EventSpec:
    """One Live Chat event: its exact Segment name and the properties Chatlio sends with it."""

    name: str
    description: str
    properties: tuple[str, ...]

    @property
    def short_name(self) -> str:
        """A name for command lines: 'Live Chat Message Sent' -> 'message-sent'."""
        return self.name.removeprefix("Live Chat ").lower().replace(" ", "-")


PROPERTIES: dict[str, PropertySpec] = {
    spec.name: spec
    for spec in (
        PropertySpec("agent_id", "string", "Chatlio's ID for the agent answering the chat."),
        PropertySpec("agent_name", "string", "The agent's name as Chatlio shows it."),
        PropertySpec("agent_username", "string", "The agent's Slack username."),
        PropertySpec(
            "conversation_duration",
            "integer",
            "Length of the conversation in whole seconds. Always a whole number: a warehouse "
            "fixes a column's type from the first value it sees.",
        ),
        PropertySpec("conversation_id", "string", "Chatlio's ID for the conversation."),
        PropertySpec(
            "message_id",
            "string",
            "Chatlio's ID for the message (not Segment's own messageId).",
        ),
    )
}

_AGENT = ("agent_id", "agent_name", "agent_username")

CONVERSATION_STARTED = EventSpec(
    "Live Chat Conversation Started",
    "A conversation began: the visitor sent their first message.",
    (*_AGENT, "conversation_id"),
)
CONVERSATION_ENDED = EventSpec(
    "Live Chat Conversation Ended",
    "The visitor or the agent ended the conversation.",
    (*_AGENT, "conversation_duration", "conversation_id"),
)
MESSAGE_SENT = EventSpec(
    "Live Chat Message Sent",
    "The visitor sent a message to the agent.",
    (*_AGENT, "conversation_id", "message_id"),
)
MESSAGE_RECEIVED = EventSpec(
    "Live Chat Message Received",
    "The visitor received a message from the agent.",
    (*_AGENT, "conversation_id", "message_id"),
)

EVENTS: tuple[EventSpec, ...] = (
    CONVERSATION_STARTED,
    CONVERSATION_ENDED,
    MESSAGE_SENT,
    MESSAGE_RECEIVED,
)
EVENTS_BY_NAME: dict[str, EventSpec] = {e.name: e for e in EVENTS}


def find_event(name: str) -> EventSpec | None:
    """The event called `name`, by its full name or short name, ignoring case."""
    wanted = name.strip().lower()
    for spec in EVENTS:
        if wanted in (spec.name.lower(), spec.short_name):
            return spec
    return None


def new_id(prefix: str) -> str:
    """A recognisable, unique test id such as 'test-visitor-3f9c2a1b'."""
    return f"{prefix}-{os.urandom(4).hex()}"  # not uuid: importing it costs start-up time


@dataclass(frozen=True)
class TestEvent:
    """One Live Chat event ready to send: name, properties and the time it happened."""

    __test__ = False  # not a pytest test class

    name: str
    properties: dict[str, Any]
    timestamp: datetime


@dataclass(frozen=True)
class Agent:
    """The Chatlio agent who answers the test conversation."""

    agent_id: str = "U0TESTAGENT"
    agent_name: str = "Alex Test-Agent"
    agent_username: str = "alex.test"

    def properties(self) -> dict[str, str]:
        return {
            "agent_id": self.agent_id,
            "agent_name": self.agent_name,
            "agent_username": self.agent_username,
        }


@dataclass(frozen=True)
class Conversation:
    """A realistic test conversation; every value can be replaced (`dataclasses.replace`).

    The visitor writes first, the agent answers, they exchange messages a few seconds apart,
    then the conversation ends. Each message has its own `message_id`; the Ended event carries
    the whole-second duration from start to end.
    """

    visitor_id: str = field(default_factory=lambda: new_id("test-visitor"))
    conversation_id: str = field(default_factory=lambda: new_id("test-conversation"))
    agent: Agent = field(default_factory=Agent)
    # None: the conversation ends now (test events are never stamped in the future).
    started_at: datetime | None = None
    # Seconds after the start at which messages go back and forth: (seconds, sent_by_visitor).
    exchange: tuple[tuple[int, bool], ...] = ((0, True), (14, False), (41, True), (63, False))
    ended_after: int = 75

    def events(self) -> list[TestEvent]:
        """The whole conversation in order: Started, the messages, Ended."""
        agent = self.agent.properties()
        base = {**agent, "conversation_id": self.conversation_id}
        start = self.started_at or datetime.now(UTC) - timedelta(seconds=self.ended_after)
        events = [TestEvent(CONVERSATION_STARTED.name, dict(base), start)]
        for number, (after, by_visitor) in enumerate(self.exchange, start=1):
            spec = MESSAGE_SENT if by_visitor else MESSAGE_RECEIVED
            message_id = f"{self.conversation_id}-msg-{number}"
            when = start + timedelta(seconds=after)
            events.append(TestEvent(spec.name, {**base, "message_id": message_id}, when))
        ended = start + timedelta(seconds=self.ended_after)
        duration = {"conversation_duration": int(self.ended_after)}
        events.append(TestEvent(CONVERSATION_ENDED.name, {**base, **duration}, ended))
        return events

    def event(self, name: str) -> TestEvent:
        """The first event called `name` in this conversation: one event sent on its own."""
        for event in self.events():
            if event.name == name:
                return event
        raise KeyError(name)

    def with_visitor(self, visitor_id: str) -> Conversation:
        return replace(self, visitor_id=visitor_id)


def property_type_errors(properties: dict[str, Any]) -> list[str]:
    """Plain-language problems with the types of known Live Chat properties."""
    problems = []
    for name, value in properties.items():
        spec = PROPERTIES.get(name)
        if spec is None or value is None:
            continue
        if spec.json_type == "integer" and (isinstance(value, bool) or not isinstance(value, int)):
            problems.append(
                f"{name} must be a whole number of seconds (like 75), not {value!r}: a warehouse "
                "would fix the column's type from the first value it sees."
            )
        elif spec.json_type == "string" and not isinstance(value, str):
            problems.append(f"{name} must be text, not {value!r}.")
    return problems
