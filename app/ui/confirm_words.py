"""What confirming arrival says in the GUI: its progress, and the verdicts the GUI reaches."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from app.segment.public_api.hosts import answerer

if TYPE_CHECKING:
    from app.proof.arrival import ArrivalProgress, Confirmation
    from app.proof.key_owner import KeyOwner

SANDBOX_NOTE = (
    "This count is the built-in sandbox's, given the way Segment's Public API gives it: "
    "nothing reached Segment."
)
# Without a Public API token: what a 200 does not prove, and how to have it proved.
_HOW_TO_PROVE = (
    "With a Segment Public API token (Team and Business plans) this app asks Segment to count "
    "the test events and says whether they arrived. Without one, open the source's Debugger "
    "in Segment and search for the test visitor."
)


def unproven(address: str | None) -> tuple[str, str]:
    """Headline and detail without a token; `address`: where the 200s came from, None when
    that was Segment itself."""
    if address is None:
        return (
            "Arrived at Segment, not confirmed: there is no Public API token",
            "An answer of 200 shows the events reached Segment in good shape, not that "
            "Segment kept them: it answers 200 even to an unknown write key, and drops such "
            f"events later. {_HOW_TO_PROVE}",
        )
    return (
        f"Received by {address}, not confirmed: there is no Public API token",
        f"An answer of 200 from {address} shows it received the events, not that Segment "
        f"did, nor that it kept them: Segment answers 200 even to an unknown write key. "
        f"{_HOW_TO_PROVE}",
    )


NOT_ASKED = "So the app did not ask Segment to count the test events."
STOPPED_LATE = "A request to Segment that was still on its way will end on its own."


def clock(seconds: float) -> str:
    """A countdown as a person reads it: '12 s', '1 min', '3 min 20 s' (whole seconds, up)."""
    whole = max(0, math.ceil(seconds - 1e-9))
    if whole < 60:
        return f"{whole} s"
    minutes, rest = divmod(whole, 60)
    return f"{minutes} min" + (f" {rest} s" if rest else "")


def finding_text(sandbox: bool) -> str:
    """Before counting: the key's source is being looked up."""
    return f"Asking {answerer(sandbox)} which source the write key belongs to\u2026"


def counting_text(progress: ArrivalProgress | None, elapsed: float, sandbox: bool) -> str:
    """'Asking Segment for its count… 2 of 6 counted, 40 s of up to 3 min'.

    `elapsed`: seconds since `progress` was reported (the time moves on between polls).
    """
    text = f"Asking {answerer(sandbox)} for its count\u2026"
    if progress is None:
        return text
    waited = min(progress.waited_s + max(0.0, elapsed), progress.wait_s)
    return (
        f"{text} {progress.counted} of {progress.expected} counted, "
        f"{clock(waited)} of up to {clock(progress.wait_s)}"
    )


def stopping_text(sandbox: bool) -> str:
    return f"Stopping: no more questions to {answerer(sandbox)}\u2026"


def not_asked(owner: KeyOwner, expected: int, sandbox: bool) -> Confirmation:
    """The key's source is not known to be a Chatlio source: why no count was asked for."""
    from app.proof.arrival import Confirmation, Verdict

    workspace = "the sandbox's workspace" if sandbox else "the token's workspace"
    source = owner.source
    if source is not None:
        headline = (
            f"Not confirmed: the write key belongs to source {source.name}, which is not a "
            "Chatlio source"
        )
        check = (
            "Use the Chatlio source's write key: in Segment, open the Chatlio source, then "
            "Settings, then API Keys, and copy its write key into this app."
        )
    elif owner.keys_visible:
        headline = f"Not confirmed: no source in {workspace} has this write key"
        if sandbox:
            check = "Create the Chatlio source in the sandbox first, then send again."
        else:
            check = (
                "Check the write key: in Segment, open the Chatlio source, then Settings, then "
                "API Keys, and copy its write key into this app again."
            )
    else:
        headline = "Not confirmed: the token cannot see the sources' write keys"
        check = (
            "A token with the Source Admin role lets the app find the key's source and count "
            "the events. Meanwhile, open the source's Debugger in Segment and search for the "
            "test visitor."
        )
    detail = f"{owner.describe()} {NOT_ASKED}\n\n{check}"
    return Confirmation(Verdict.FAILED, expected, 0, headline=headline, detail=detail)


def could_not_ask(error: BaseException, expected: int, sandbox: bool) -> Confirmation:
    """The Public API could not be asked (or the check was stopped while it was)."""
    from app.proof.arrival import Confirmation, Verdict
    from app.segment.public_api.errors import ApiErrorKind, PublicApiError

    if isinstance(error, PublicApiError) and error.kind is ApiErrorKind.CANCELLED:
        return stopped(expected, sandbox)
    if isinstance(error, PublicApiError):
        said = error.sentence
    else:
        said = "Something unexpected stopped the check."
    who = answerer(sandbox)
    return Confirmation(
        Verdict.FAILED,
        expected,
        0,
        headline=f"Not confirmed: {who} could not be asked for its count",
        detail=(
            f"{said}\n\nThe test events may well have arrived. Send again later to check, or "
            "open the source's Debugger in Segment and search for the test visitor."
        ),
    )


def stopped(expected: int, sandbox: bool, late: bool = False) -> Confirmation:
    """Cancel pressed: nothing more is asked; `late` when a request was still on its way."""
    from app.proof.arrival import Confirmation, Verdict

    detail = "Send again to check once more, or look in the source's Debugger in Segment."
    if late:
        detail = f"{STOPPED_LATE} {detail}"
    return Confirmation(
        Verdict.CANCELLED,
        expected,
        0,
        headline=f"Stopped before {answerer(sandbox)}'s count was read",
        detail=detail,
    )
