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
    optional: bool = False  # the spec shows it in its examples but does not list it


@dataclass(frozen=True)
class EventSpec:
    """One Live Chat event: its exact Segment name and the properties the Live Chat spec gives it.

    The spec lists the same properties for all four events; which of them Chatlio really sends
    on which event is not public, so a validator of real events also accepts a leaner shape.
    """

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
        PropertySpec(
            "message_body",
            "string",
            "The text of the message. Optional: the Live Chat spec's examples send it.",
            optional=True,
        ),
    )
}

# The Live Chat spec (segment-docs src/connections/spec/live-chat.md) gives every event the same
# six properties; its examples add message_body.
_SPEC_PROPERTIES = tuple(PROPERTIES)

CONVERSATION_STARTED = EventSpec(
    "Live Chat Conversation Started",
    "A conversation began: the visitor sent their first message.",
    _SPEC_PROPERTIES,
)
CONVERSATION_ENDED = EventSpec(
    "Live Chat Conversation Ended",
    "The visitor or the agent ended the conversation.",
    _SPEC_PROPERTIES,
)
MESSAGE_SENT = EventSpec(
    "Live Chat Message Sent",
    "The visitor sent a message to the agent.",
    _SPEC_PROPERTIES,
)
MESSAGE_RECEIVED = EventSpec(
    "Live Chat Message Received",
    "The visitor received a message from the agent.",
    _SPEC_PROPERTIES,
)
MESSAGE_EVENTS = (MESSAGE_SENT, MESSAGE_RECEIVED)

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


MESSAGE_BODIES = (
    "Hi! Is this chat working? (a test message from Chatlio Segment Setup)",
    "Hello, yes: this is a test answer from the agent.",
    "Great, thanks.",
    "You're welcome. Ending the test conversation now.",
)


@dataclass(frozen=True)
class Conversation:
    """A realistic test conversation; every value can be replaced (`dataclasses.replace`).

    The visitor writes first, the agent answers, they exchange messages a few seconds apart,
    then the conversation ends. As in the Live Chat spec's examples, every event carries
    `conversation_duration` as a running count of whole seconds since the start (Started 0,
    Ended the whole length) and its own `message_id`; the messages carry their `message_body`.
    """

    visitor_id: str = field(default_factory=lambda: new_id("test-visitor"))
    conversation_id: str = field(default_factory=lambda: new_id("test-conversation"))
    agent: Agent = field(default_factory=Agent)
    # None: the conversation ends now (test events are never stamped in the future).
    started_at: datetime | None = None
    # Seconds after the start at which messages go back and forth: (seconds, sent_by_visitor).
    exchange: tuple[tuple[int, bool], ...] = ((0, True), (14, False), (41, True), (63, False))
    ended_after: int = 75
    # The messages' texts, in turn (repeated when the exchange is longer).
    bodies: tuple[str, ...] = MESSAGE_BODIES

    def events(self) -> list[TestEvent]:
        """The whole conversation in order: Started, the messages, Ended."""
        start = self.started_at or datetime.now(UTC) - timedelta(seconds=self.ended_after)
        moments = [
            (CONVERSATION_STARTED, 0, ""),
            *(
                (MESSAGE_SENT if by_visitor else MESSAGE_RECEIVED, after, self._body(number))
                for number, (after, by_visitor) in enumerate(self.exchange)
            ),
            (CONVERSATION_ENDED, self.ended_after, ""),
        ]
        return [
            TestEvent(
                spec.name, self._properties(number, after, body), start + timedelta(seconds=after)
            )
            for number, (spec, after, body) in enumerate(moments)
        ]

    def _properties(self, number: int, after: int, body: str) -> dict[str, Any]:
        properties: dict[str, Any] = {
            **self.agent.properties(),
            "conversation_duration": int(after),
            "conversation_id": self.conversation_id,
            "message_id": f"{self.conversation_id}-msg-{number}",
        }
        if body:
            properties["message_body"] = body
        return properties

    def _body(self, number: int) -> str:
        return self.bodies[number % len(self.bodies)] if self.bodies else ""

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


# Whom the heartbeat conversations of `check` are about: one id, easy to search for in the
# Source Debugger and to filter out of a warehouse.
HEARTBEAT_VISITOR = "chatlio-segment-setup-heartbeat"
HEARTBEAT_AGENT = Agent("U0HEARTBEAT", "Heartbeat (Chatlio Segment Setup)", "chatlio-segment-setup")


def heartbeat() -> Conversation:
    """A small, clearly marked conversation for `check`: all four events, two seconds long."""
    return Conversation(
        visitor_id=HEARTBEAT_VISITOR,
        conversation_id=new_id("heartbeat"),
        agent=HEARTBEAT_AGENT,
        exchange=((0, True), (1, False)),
        ended_after=2,
        bodies=(
            "Heartbeat from chatlio-segment-setup check: please ignore.",
            "Heartbeat answer: please ignore.",
        ),
    )
