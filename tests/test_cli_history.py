"""The send history from the command line: `send` keeps each send, `history` lists, exports and
clears them; the real CLI, the real sandbox over loopback, a real SQLite file per test."""

from __future__ import annotations

import base64
import io
import json
import os
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from app import cli
from app.data_dir import data_dir
from app.history.export import entry_from_json
from app.history.store import HistoryStore
from app.redaction import KEY_SHAPED, SECRET_HIDDEN
from app.segment.public_api import CHATLIO_METADATA_ID
from app.segment.sandbox import Sandbox
from tests.cli_api_helpers import TOKEN, Terminal, cli_env, leak_forms, no_traceback
from tests.cli_api_helpers import cli as run
from tests.test_history_export import har_problems

KEY = "PlantedHistoryKey0123456789abcde"
PROG = "chatlio-segment-setup"
ENTRY_KEYS = {
    "id", "started_at", "face", "source", "endpoint", "region", "sandbox", "events", "total",
    "arrived", "outcome", "summary", "confirmation",
}  # fmt: skip


def kept() -> HistoryStore:
    """The history the CLI of this test keeps (XDG_DATA_HOME is the test's own)."""
    return HistoryStore()


def send_in_process(*extra: str) -> None:
    """One event to the built-in sandbox through the real CLI, in this process (quick)."""
    assert cli.run(["send", "--sandbox", "--event", "message-sent", *extra], out=io.StringIO()) == 0


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


# --- send keeps it; history lists it ------------------------------------------------------------


def test_sends_are_listed_newest_first_and_json_round_trips(sandbox: Sandbox) -> None:
    to_address = run(
        None, "send", "--endpoint", sandbox.url, "--event", "message-sent", "--source",
        " Chatlio Prod ", SEGMENT_WRITE_KEY=KEY,
    )  # fmt: skip
    to_sandbox = run(None, "send", "--sandbox", "--json")
    assert to_address.returncode == to_sandbox.returncode == 0, to_address.stderr

    listed = run(None, "history")
    as_json = run(None, "history", "--json")

    assert listed.returncode == as_json.returncode == 0
    store = kept()
    entries = store.page()
    assert len(entries) == 2
    newest, oldest = listed.stdout.splitlines()
    when = entries[1].started_at.astimezone().strftime("%Y-%m-%d %H:%M:%S")
    assert oldest.startswith(f"{when}  arrived ")
    assert "1 of 1 test event arrived at 127.0.0.1:" in oldest
    assert oldest.endswith("(source Chatlio Prod, from the command line)")
    assert "6 of 6 test events arrived at the sandbox on this computer." in newest
    assert newest.endswith("(source sandbox, from the command line)")
    lines = json_lines(as_json.stdout)
    assert [set(line) for line in lines] == [ENTRY_KEYS, ENTRY_KEYS]
    assert [entry_from_json(line) for line in lines] == entries
    assert lines[0]["sandbox"] is True
    assert lines[1]["sandbox"] is False
    assert lines[1]["endpoint"] == sandbox.url
    assert lines[1]["events"] == ["Live Chat Message Sent"]
    assert {line["face"] for line in lines} == {"cli"}
    assert lines[1]["started_at"].endswith("+00:00")
    # The send's own --json output is as it always was: one line per event, nothing else.
    assert [line["status"] for line in json_lines(to_sandbox.stdout)] == [200] * 6
    assert to_sandbox.stderr == ""


def test_limit_shows_the_newest_and_says_how_to_see_the_rest(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for _ in range(3):
        send_in_process()
    ids = [entry.id for entry in kept().page()]
    out = io.StringIO()

    assert cli.run(["history", "--limit", "2"], out=out) == 0
    *shown, blank, more = out.getvalue().splitlines()
    as_json = io.StringIO()
    assert cli.run(["history", "--limit", "2", "--json"], out=as_json) == 0

    assert len(shown) == 2
    assert blank == ""
    assert (
        more == f"Showing the newest 2 of 3 kept sends. To see them all: {PROG} history --limit 3"
    )
    assert [line["id"] for line in json_lines(as_json.getvalue())] == ids[:2]
    everything = io.StringIO()
    assert cli.run(["history", "--limit", "3"], out=everything) == 0
    assert len(everything.getvalue().splitlines()) == 3
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("limit", ["0", "-1", "many", "2.5"])
def test_limit_must_be_a_whole_number_above_0(limit: str) -> None:
    result = run(None, "history", "--limit", limit)

    assert result.returncode == 2
    assert "must be a whole number from 1 to" in result.stderr
    no_traceback(result)


def test_an_empty_history_says_how_sends_get_kept() -> None:
    result = run(None, "history")
    as_json = run(None, "history", "--json")

    assert result.returncode == as_json.returncode == 0
    assert result.stdout.startswith("No sends are kept yet.")
    assert f"'{PROG} send'" in result.stdout
    assert "--no-history" in result.stdout
    assert "The last 1,000 sends are kept." in result.stdout
    assert as_json.stdout == ""


def test_no_history_keeps_nothing() -> None:
    out = io.StringIO()

    assert cli.run(["send", "--sandbox", "--json", "--no-history"], out=out) == 0

    assert len(json_lines(out.getvalue())) == 6
    assert kept().count() == 0


def test_a_history_that_cannot_be_written_never_fails_the_send(tmp_path: Path) -> None:
    blocker = tmp_path / "a file"
    blocker.write_text("where the data folder should be")
    unusable = {"XDG_DATA_HOME": str(blocker / "data")}

    sent = run(None, "send", "--sandbox", "--json", **unusable)
    listed = run(None, "history", **unusable)

    assert sent.returncode == 0
    assert [line["status"] for line in json_lines(sent.stdout)] == [200] * 6
    [warning] = sent.stderr.splitlines()
    assert warning.startswith("Warning: The send history cannot be kept in ")
    assert warning.endswith("This send was not recorded.")
    assert listed.returncode == 1
    assert "cannot be kept in" in listed.stderr
    for result in (sent, listed):
        no_traceback(result)


def test_a_damaged_history_is_put_aside_once_with_a_sentence() -> None:
    folder = data_dir()
    folder.mkdir(parents=True)
    (folder / "history.sqlite3").write_bytes(b"not a database at all " * 200)

    sent = run(None, "send", "--sandbox", "--json", "--event", "message-sent")

    assert sent.returncode == 0
    assert len(json_lines(sent.stdout)) == 1
    assert sent.stderr.count("put aside") == 1
    assert "damaged" in sent.stderr
    assert len(list(folder.glob("history.damaged-*.sqlite3"))) == 1
    assert kept().count() == 1
    listed = run(None, "history")
    assert listed.stderr == ""  # said once, by the run that put it aside


def test_neither_help_nor_a_send_without_history_loads_sqlite() -> None:
    code = (
        "import contextlib, io, sys\n"
        "from app.cli import run\n"
        "for args in (['--help'], ['history', '--help'], ['send', '--help']):\n"
        "    with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
        "        run(args)\n"
        "assert run(['send', '--sandbox', '--no-history'], out=io.StringIO()) == 0\n"
        "print(sorted(m for m in sys.modules if 'sqlite' in m or m.startswith('app.history')))\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )

    assert loaded.stdout.strip() == "[]", loaded.stderr


# --- history export -----------------------------------------------------------------------------


def test_export_har_and_jsonl_of_a_retried_send(sandbox: Sandbox, tmp_path: Path) -> None:
    sandbox.fail_next(500)  # the first try fails, the second arrives: two requests, one send
    sent = run(
        None, "send", "--endpoint", sandbox.url, "--event", "message-sent",
        SEGMENT_WRITE_KEY=KEY,
    )  # fmt: skip
    assert sent.returncode == 0, sent.stderr
    har = tmp_path / "history.har"

    to_file = run(None, "history", "export", "--har", str(har))
    to_stdout = run(None, "history", "export", "--jsonl", "-")

    assert to_file.returncode == 0, to_file.stderr
    assert to_file.stdout == f"Exported 1 send (2 requests) to {har}.\n"
    document = json.loads(har.read_text())
    assert har_problems(document) == []
    assert document["log"]["version"] == "1.2"
    entries = document["log"]["entries"]
    assert [e["response"]["status"] for e in entries] == [500, 200]
    assert [e["_chatlio"]["attempt"] for e in entries] == [1, 2]
    if os.name == "posix":
        assert stat.S_IMODE(har.stat().st_mode) == 0o600
    assert to_stdout.returncode == 0
    [line] = json_lines(to_stdout.stdout)
    assert line["results"][0]["attempts"] == 2
    assert line["id"] == entries[0]["_chatlio"]["send_id"]
    assert to_stdout.stderr == "Exported 1 send (2 requests) to standard output.\n"


def test_export_of_an_empty_history_writes_an_empty_file(tmp_path: Path) -> None:
    jsonl = tmp_path / "history.jsonl"

    result = run(None, "history", "export", "--jsonl", str(jsonl))

    assert result.returncode == 0
    assert result.stdout == f"Exported 0 sends (0 requests) to {jsonl}.\n"
    assert jsonl.read_text() == ""


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["history", "export"], "one of the arguments --har --jsonl is required"),
        (["history", "export", "--har", "a.har", "--jsonl", "a.jsonl"], "not allowed with"),
        (["history", "--limit", "5", "export", "--har", "a.har"], "Leave them out"),
        (["history", "--json", "clear", "--yes"], "Leave them out"),
    ],
)
def test_export_usage_errors(args: list[str], says: str, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "app", *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )

    assert result.returncode == 2
    assert says in result.stderr
    assert list(tmp_path.iterdir()) == []
    no_traceback(result)


def unwritable_folder(tmp_path: Path) -> Path:
    """A folder this user cannot create files in (root can, except in sysfs)."""
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        if not Path("/sys/kernel").is_dir():
            pytest.skip("running as root, with no sysfs to stand for a read-only folder")
        return Path("/sys/kernel")
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o500)
    return folder


@pytest.mark.parametrize("where", ["missing folder", "a folder", "unwritable folder"])
def test_a_file_that_cannot_be_written_is_a_sentence(tmp_path: Path, where: str) -> None:
    send_in_process()
    path = {
        "missing folder": tmp_path / "nowhere" / "history.har",
        "a folder": tmp_path,
        "unwritable folder": unwritable_folder(tmp_path) / "history.har",
    }[where]

    result = run(None, "history", "export", "--har", str(path))

    expected_code, says = {
        "missing folder": (2, "There is no folder"),
        "a folder": (2, "is a folder. Give the name of a file"),
        "unwritable folder": (1, "could not be written"),
    }[where]
    assert result.returncode == expected_code
    assert says in result.stderr
    assert result.stdout == ""
    no_traceback(result)


# --- history clear ------------------------------------------------------------------------------


def test_clear_without_a_terminal_needs_yes() -> None:
    send_in_process()
    send_in_process()

    refused = run(None, "history", "clear")
    assert kept().count() == 2
    cleared = run(None, "history", "clear", "--yes")
    again = run(None, "history", "clear", "--yes")

    assert refused.returncode == 2
    assert "Deleting all 2 kept sends needs a yes" in refused.stderr
    assert f"{PROG} history clear --yes" in refused.stderr
    assert cleared.returncode == 0
    assert cleared.stdout == "Deleted 2 kept sends.\n"
    assert kept().count() == 0
    assert again.stdout == "There are no kept sends to delete.\n"
    for result in (refused, cleared, again):
        no_traceback(result)


@pytest.mark.parametrize(("answer", "left"), [("y", 0), ("n", 2)])
def test_clear_on_a_terminal_asks_first(answer: str, left: int) -> None:
    send_in_process()
    send_in_process()
    env = cli_env(None, PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")

    with Terminal(["history", "clear"], env) as terminal:
        terminal.wait_for("Delete all 2 kept sends? [y/N]")
        terminal.type(answer)
        code, shown = terminal.finish()

    assert kept().count() == left
    if left:
        assert code == 1
        assert "Nothing was deleted." in shown
    else:
        assert code == 0, shown
        assert "Deleted 2 kept sends." in shown


# --- the write key and the token are nowhere in the history -----------------------------------


class EchoingReceiver:
    """A Tracking API in front of the sandbox that hands the write key back in every form: the
    Authorization header, the key, its base64 and URL-encoded forms, in the answer's body and
    headers; and `also` (the token: as a server that had it, a shared proxy's log say, would).
    The first request gets a 500 (so there is an earlier try), the rest go on to the sandbox,
    whose answer comes back with the echo."""

    def __init__(self, upstream: str, also: str) -> None:
        self.requests = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                authorization = self.headers.get("Authorization", "")
                key = base64.b64decode(authorization.split()[-1]).decode().removesuffix(":")
                receiver.requests += 1
                status, answer = 500, {}
                if receiver.requests > 1:
                    forwarded = httpx.post(
                        upstream + self.path,
                        content=body,
                        headers={
                            "Authorization": authorization,
                            "Content-Type": "application/json",
                        },
                    )
                    status, answer = forwarded.status_code, forwarded.json()
                echoed = {
                    "authorization": authorization,
                    "key": key,
                    "key_base64": base64.b64encode(key.encode()).decode(),
                    "key_url": quote(f"{key}:", safe=""),
                    "also": also,
                    "also_base64": base64.b64encode(f"{also}:".encode()).decode(),
                }
                data = json.dumps({**answer, "echo": echoed}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("X-Echo-Authorization", authorization)
                self.send_header("X-Echo-Key", key)
                self.send_header("X-Echo-Key-Url", quote(f"{key}:", safe=""))
                self.send_header("X-Echo-Also", also)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> EchoingReceiver:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


def every_form(secret: str) -> dict[str, bytes]:
    """How a secret could be written: raw, base64 of it and of 'it:', URL-encoded."""
    return {
        **leak_forms(secret),
        "url-encoded": quote(secret, safe="").encode(),
        "url-encoded(secret + ':')": quote(f"{secret}:", safe="").encode(),
    }


def leaks(secrets: dict[str, str], places: dict[str, bytes]) -> list[str]:
    return [
        f"{place}: {name} as {form_name}"
        for place, data in places.items()
        for name, secret in secrets.items()
        for form_name, form in every_form(secret).items()
        if form in data
    ]


@pytest.fixture
def planted() -> Iterator[tuple[Sandbox, str]]:
    """A sandbox whose workspace has a Chatlio source with a key of Segment's shape (the first
    Chatlio source takes the sandbox's own key; the second gets a real-looking one)."""
    with Sandbox() as sandbox:
        workspace = sandbox.public_api.workspace
        workspace.create("chatlio-first", CHATLIO_METADATA_ID, name="First")
        source = workspace.create("chatlio", CHATLIO_METADATA_ID, name="Chatlio")
        [key] = source.write_keys
        assert KEY_SHAPED.fullmatch(key)
        yield sandbox, key


def test_the_key_and_the_token_are_never_kept_or_exported(
    planted: tuple[Sandbox, str], tmp_path: Path
) -> None:
    sandbox, key = planted
    secrets = {"the write key": key, "the Public API token": TOKEN}
    # Held open, so the file's write-ahead log is still there to be searched after each run.
    holder = kept()
    holder.count()
    database = holder.path
    wal = Path(f"{database}-wal")
    har, jsonl = tmp_path / "history.har", tmp_path / "history.jsonl"
    with EchoingReceiver(sandbox.url, also=TOKEN) as receiver:
        sent = run(
            None, "send", "--endpoint", receiver.url, "--event", "message-sent", "--confirm",
            "--api-endpoint", sandbox.public_api_url, "--wait", "60",
            SEGMENT_WRITE_KEY=key, SEGMENT_API_TOKEN=TOKEN,
        )  # fmt: skip
    assert sent.returncode == 0, sent.stdout + sent.stderr
    assert receiver.requests == 2  # a 500, then the answer the sandbox gave
    assert "The sandbox counted the 1 test event in source Chatlio." in sent.stdout
    outputs = [
        run(None, "history"),
        run(None, "history", "--json"),
        run(None, "history", "export", "--har", str(har)),
        run(None, "history", "export", "--jsonl", str(jsonl)),
        run(None, "history", "export", "--har", "-"),
    ]
    assert [result.returncode for result in outputs] == [0] * 5
    places = {
        "the database": database.read_bytes(),
        "its write-ahead log": wal.read_bytes(),
        "the HAR": har.read_bytes(),
        "the JSON lines": jsonl.read_bytes(),
        "what history printed": "".join(r.stdout + r.stderr for r in outputs).encode(),
    }

    assert leaks(secrets, places) == []
    # It was all there to be found: the echo was kept, with the secrets replaced.
    assert SECRET_HIDDEN.encode() in places["its write-ahead log"]
    entries = json.loads(har.read_text())["log"]["entries"]
    assert len(entries) == 2
    answer = {h["name"].lower(): h["value"] for h in entries[1]["response"]["headers"]}
    assert answer["x-echo-key"] == SECRET_HIDDEN
    assert answer["x-echo-authorization"] == f"Basic {SECRET_HIDDEN}"
    assert answer["x-echo-also"] == SECRET_HIDDEN
    [line] = json_lines(jsonl.read_text())
    assert line["confirmation"]["verdict"] == "confirmed"
    assert "counted the 1 test event" in line["confirmation"]["headline"]
    listed = json_lines(outputs[1].stdout)
    assert listed[0]["confirmation"] == {"headline": line["confirmation"]["headline"]}
    # And once the log is folded into the database, the database holds none of them either.
    holder.close()
    assert not wal.exists() or wal.stat().st_size == 0
    folded = {"the database, log folded in": database.read_bytes()}
    assert SECRET_HIDDEN.encode() in folded["the database, log folded in"]
    assert leaks(secrets, folded) == []
    assert leaks(secrets, {p.name: p.read_bytes() for p in database.parent.iterdir()}) == []


# --- history keep ---------------------------------------------------------------------------------


def keep(*args: str) -> str:
    out = io.StringIO()
    assert cli.run(["history", "keep", *args], out=out) == 0
    return out.getvalue().strip()


def test_keep_says_and_sets_how_much_history_is_kept() -> None:
    assert keep() == "The last 1,000 sends are kept. No sends are kept now."
    for _ in range(3):
        send_in_process()
    assert keep("--sends", "2") == (
        "The last 2 sends are kept. 1 older send was deleted. 2 sends are kept now."
    )
    assert kept().count() == 2
    assert keep("--days", "30") == "Sends of the last 30 days are kept. 2 sends are kept now."
    assert keep("--off") == "History is off: sends are not kept. The 2 kept sends were deleted."
    send_in_process()
    assert kept().count() == 0
    assert keep() == "History is off: sends are not kept. No sends are kept now."
    # The app reads the same setting from the same file.
    from app.history.store import KeepMode

    assert kept().retention.mode is KeepMode.OFF
    keep("--sends", "1000")
    send_in_process()
    assert kept().count() == 1


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--sends", "0"], "from 1 to 1000000"),
        (["--days", "99999"], "from 1 to 3650"),
        (["--sends", "5", "--off"], "not allowed with argument"),
    ],
)
def test_keep_refuses_what_it_cannot_do(
    args: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        cli.run(["history", "keep", *args], out=io.StringIO())
    assert stopped.value.code == 2
    assert said in capsys.readouterr().err
