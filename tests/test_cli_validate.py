"""`validate` through the real command line: files, standard input, exit codes, --json; and the
events our own `send` delivers to the sandbox, checked as a user would check Chatlio's."""

from __future__ import annotations

import json
from pathlib import Path

from app.segment.sandbox import Sandbox
from tests.cli_helpers import run_cli
from tests.test_validation import one, spec_shaped, with_properties

KEY = "PlantedValidateKey0123456789abcd"


def no_traceback(output: str) -> None:
    assert "Traceback" not in output


def test_what_our_send_delivers_is_clean(sandbox: Sandbox, tmp_path: Path) -> None:
    sent = run_cli(
        "send", "--all", "--endpoint", sandbox.url, "--no-history", env={"SEGMENT_WRITE_KEY": KEY}
    )
    assert sent.returncode == 0, sent.stderr
    received = [event.payload for event in sandbox.events()]
    assert len(received) == 6
    # What the Source Debugger's Raw view would show, one event per line.
    path = tmp_path / "received.jsonl"
    path.write_text("\n".join(json.dumps(p) for p in received))
    result = run_cli("validate", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "Checked 6 events: no problems. They match the Live Chat spec."


def test_problems_are_listed_and_exit_1(tmp_path: Path) -> None:
    path = tmp_path / "chatlio.json"
    bad = with_properties(one(event="Live chat message sent"), conversation_duration="75")
    path.write_text(json.dumps([one(), bad]))
    result = run_cli("validate", str(path))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0] == "Event 2, “Live chat message sent” (item 2 of the list): 2 problems"
    assert lines[1].startswith("  - The name “Live chat message sent” is spelled differently")
    assert all(len(line) <= 100 for line in lines)
    assert lines[-1] == "Checked 2 events: 2 problems in 1 of them."
    no_traceback(result.stdout + result.stderr)


def test_standard_input_with_and_without_a_dash() -> None:
    text = "\n".join(json.dumps(e) for e in spec_shaped())
    for args in (["validate"], ["validate", "-"]):
        result = run_cli(*args, stdin=text)
        assert result.returncode == 0, result.stdout
        assert result.stderr == ""  # the paste hint is for a terminal only


def test_json_report_for_scripts() -> None:
    result = run_cli("validate", "--json", stdin=json.dumps({"batch": [one(anonymousId=None)]}))
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["clean"] is False
    assert report["events"][0]["problems"][0]["code"] == "no_visitor_id"
    clean = run_cli("validate", "--json", stdin=json.dumps(one()))
    assert clean.returncode == 0
    assert json.loads(clean.stdout)["clean"] is True


def test_input_that_is_not_events_is_a_sentence_and_exit_1() -> None:
    result = run_cli("validate", stdin='{"event": ')
    assert result.returncode == 1
    assert result.stdout.startswith("  - This is not valid JSON (the first mistake is at line 1")
    empty = run_cli("validate", stdin="")
    assert empty.returncode == 1
    assert "nothing to check" in empty.stdout


def test_a_file_that_cannot_be_read_is_exit_2(tmp_path: Path) -> None:
    missing = run_cli("validate", str(tmp_path / "nope.json"))
    assert missing.returncode == 2
    assert "There is no file" in missing.stderr
    folder = run_cli("validate", str(tmp_path))
    assert folder.returncode == 2
    assert "is a folder" in folder.stderr
    for result in (missing, folder):
        no_traceback(result.stdout + result.stderr)


def test_a_write_key_in_the_input_is_never_printed(tmp_path: Path) -> None:
    path = tmp_path / "batch.json"
    path.write_text(json.dumps({"writeKey": KEY, "batch": [one(writeKey=KEY, type="page"), KEY]}))
    for extra in ([], ["--json"]):
        result = run_cli("validate", *extra, str(path))
        assert result.returncode == 1
        assert KEY not in result.stdout + result.stderr


def test_the_readme_example_prints_as_shown(tmp_path: Path) -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    section = readme.split("### `validate`", 1)[1]
    block = section.split("```console\n", 1)[1].split("```", 1)[0]
    lines = [line.removeprefix("  ") for line in block.rstrip().splitlines()]
    assert lines[0] == "$ chatlio-segment-setup validate chatlio-events.jsonl"
    events = spec_shaped()
    events[1]["event"] = "Live chat message sent"  # our conversation's first message
    path = tmp_path / "chatlio-events.jsonl"
    path.write_text("\n".join(json.dumps(e) for e in events))
    result = run_cli("validate", str(path))
    assert result.returncode == 1
    assert result.stdout.splitlines() == lines[1:]
