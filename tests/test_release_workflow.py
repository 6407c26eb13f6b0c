"""The release workflow, its lock file, its Python and its tag check, read and run here.

GitHub's runners cannot run here: the workflow is parsed and checked for what makes a release
reproducible (pinned runners, actions, Python and packages) and honest (the tag names the
version; only release files, with their checksums, are published). Its shell steps that need no
runner (the checksums and `gh release create`) run here against a fake `gh`.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from app import __version__
from tests.packaging_helpers import load

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"
WORKFLOW = ROOT / ".github" / "workflows" / "release.yml"
LOCK = PACKAGING / "release.lock"
PYTHON_VERSION_FILE = PACKAGING / "python-version"
WINDOWS_SMOKE = "packaging/windows/smoke_test.ps1"
MACOS_SMOKE = "packaging/macos/smoke_test_dmg.sh"

BUILD_RUNNERS = {"ubuntu-22.04", "windows-2025", "macos-15"}
# Pinned images only; ubuntu-22.04 stays for its glibc (the oldest GitHub offers), macos-15-intel
# starts the universal2 build's x86_64 half.
ALLOWED_RUNNERS = {*BUILD_RUNNERS, "macos-15-intel"}
# Each action's newest major (Aug 2026); an action not listed here fails the test until its
# current major is written down.
CURRENT_MAJORS = {
    "actions/checkout": 7,
    "actions/setup-python": 7,
    "actions/upload-artifact": 7,
    "actions/download-artifact": 8,
}
# The commits those releases were published at: a typo in 40 hex digits shows nowhere else here.
KNOWN_COMMITS = {
    ("actions/checkout", "v7.0.1"): "3d3c42e5aac5ba805825da76410c181273ba90b1",
    ("actions/setup-python", "v7.0.0"): "5fda3b95a4ea91299a34e894583c3862153e4b97",
    ("actions/upload-artifact", "v7.0.0"): "bbbca2ddaa5d8feaa63e36b76fdaad77386f024f",
    ("actions/download-artifact", "v8.0.1"): "3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c",
}
RELEASE_FILES = (
    "chatlio-segment-setup-0.2.0-linux-x86_64.tar.gz",
    "chatlio-segment-setup_0.2.0_amd64.deb",
    "chatlio-segment-setup-0.2.0-windows-x86_64.zip",
    "chatlio-segment-setup-0.2.0-setup.exe",
    "chatlio-segment-setup-0.2.0-macos-universal2.dmg",
)


@pytest.fixture(scope="module")
def workflow() -> dict[Any, Any]:
    parsed = yaml.safe_load(WORKFLOW.read_text())
    assert isinstance(parsed, dict)
    return parsed


def jobs(workflow: dict[Any, Any]) -> dict[str, dict[str, Any]]:
    result = workflow["jobs"]
    assert isinstance(result, dict)
    return result


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    result = job["steps"]
    assert isinstance(result, list)
    return result


def runners(job: dict[str, Any]) -> set[str]:
    """The runner labels a job runs on, its matrix resolved."""
    label = job["runs-on"]
    if label == "${{ matrix.os }}":
        return {entry["os"] for entry in job["strategy"]["matrix"]["include"]}
    assert isinstance(label, str)
    assert "${{" not in label, f"cannot resolve runs-on {label!r}"
    return {label}


def step_named(job: dict[str, Any], *words: str) -> dict[str, Any]:
    found = [s for s in steps(job) if all(w in s.get("name", "") for w in words)]
    assert len(found) == 1, f"expected one step named with {words}, found {len(found)}"
    return found[0]


def setup_python(job: dict[str, Any]) -> dict[str, Any]:
    found = [s for s in steps(job) if s.get("uses", "").startswith("actions/setup-python@")]
    assert len(found) == 1
    return found[0]


def installs_packages(job: dict[str, Any]) -> bool:
    return any("packaging/build.py" in s.get("run", "") for s in steps(job))


def run_blocks(workflow: dict[Any, Any]) -> list[tuple[str, str, str]]:
    """(step, shell, script) for every `run:` step and each shell it can run in.

    A step without `shell:` runs in pwsh on Windows and bash elsewhere, so a matrix step
    without an OS condition must parse in both. ${{ }} expressions are replaced by a word.
    """
    blocks = []
    for job_name, job in jobs(workflow).items():
        for step in steps(job):
            if "run" not in step:
                continue
            condition = step.get("if", "")
            if "shell" in step:
                shells = [step["shell"]]
            elif "runner.os == 'Windows'" in condition:
                shells = ["pwsh"]
            elif "runner.os ==" in condition or "windows" not in str(job.get("strategy", "")):
                shells = ["bash"]
            else:
                shells = ["bash", "pwsh"]
            script = re.sub(r"\$\{\{.*?\}\}", "EXPR", step["run"])
            for shell in shells:
                blocks.append((f"{job_name}: {step.get('name', '?')}", shell, script))
    return blocks


def test_every_shell_step_parses(workflow: dict[Any, Any]) -> None:
    import tree_sitter
    import tree_sitter_powershell

    powershell = tree_sitter.Parser(tree_sitter.Language(tree_sitter_powershell.language()))
    blocks = run_blocks(workflow)
    assert {shell for _name, shell, _script in blocks} == {"bash", "pwsh"}

    for name, shell, script in blocks:
        if shell == "pwsh":
            assert not powershell.parse(script.encode()).root_node.has_error, name
        else:
            result = subprocess.run(
                ["bash", "-n"], input=script, capture_output=True, text=True, check=False
            )
            assert result.returncode == 0, f"{name}: {result.stderr}"


# --- runners, actions, Python -----------------------------------------------------------------


def test_runs_on_tags_and_by_hand_with_read_only_default_permissions(
    workflow: dict[Any, Any],
) -> None:
    triggers = workflow[True]  # PyYAML reads the key `on` as the boolean True

    assert triggers["push"] == {"tags": ["v*"]}
    assert "workflow_dispatch" in triggers
    assert workflow["permissions"] == {"contents": "read"}
    assert workflow["concurrency"] == {
        "group": "release-${{ github.ref }}",
        "cancel-in-progress": True,
    }


def test_every_runner_is_pinned_and_the_builds_cover_three_systems(
    workflow: dict[Any, Any],
) -> None:
    used = {label for job in jobs(workflow).values() for label in runners(job)}

    assert not [label for label in used if label.endswith("-latest")]
    assert used <= ALLOWED_RUNNERS, used - ALLOWED_RUNNERS
    assert runners(jobs(workflow)["build"]) == BUILD_RUNNERS
    assert runners(jobs(workflow)["macos-intel"]) == {"macos-15-intel"}


_USES = re.compile(
    r"^\s*(?:-\s+)?uses:\s*(?P<action>[\w.-]+/[\w.-]+)@(?P<ref>\S+)(?:\s+#\s*(?P<comment>\S+))?\s*$"
)


def _uses_lines() -> list[re.Match[str]]:
    lines = [line for line in WORKFLOW.read_text().splitlines() if re.search(r"\buses:", line)]
    matches = [_USES.match(line) for line in lines]
    assert all(matches), [line for line, m in zip(lines, matches, strict=True) if m is None]
    return [m for m in matches if m is not None]


def test_every_action_is_pinned_to_a_commit_of_its_current_major(
    workflow: dict[Any, Any],
) -> None:
    uses = _uses_lines()
    parsed = [s["uses"] for job in jobs(workflow).values() for s in steps(job) if "uses" in s]

    assert len(uses) == len(parsed) >= 10  # the text and the parsed workflow agree
    for match in uses:
        action, ref, comment = match["action"], match["ref"], match["comment"]
        assert re.fullmatch(r"[0-9a-f]{40}", ref), f"{action}@{ref}: pin the full commit"
        version = re.fullmatch(r"v(\d+)\.(\d+)\.(\d+)", comment or "")
        assert version, f"{action}@{ref}: add the release's '# vX.Y.Z' comment"
        assert action in CURRENT_MAJORS, f"{action}: write down its current major"
        assert int(version[1]) >= CURRENT_MAJORS[action], f"{action} {comment} is behind"
        known = KNOWN_COMMITS.get((action, version[0]))
        assert known in {None, ref}, f"{action} {comment} is commit {known}, not {ref}"


def test_every_job_uses_the_one_python_and_the_builds_cache_pip(
    workflow: dict[Any, Any],
) -> None:
    assert "python-version:" not in WORKFLOW.read_text()
    for name, job in jobs(workflow).items():
        setup = setup_python(job)
        checkout = next(i for i, s in enumerate(steps(job)) if "checkout" in s.get("uses", ""))
        assert checkout < steps(job).index(setup), f"{name}: the file needs the checkout first"
        options = setup["with"]
        assert options["python-version-file"] == "packaging/python-version", name
        if installs_packages(job):
            assert options["cache"] == "pip", name
            assert options["cache-dependency-path"] == "packaging/release.lock", name
        else:
            # A job that installs nothing has no cache to save.
            assert "cache" not in options, name
    assert installs_packages(jobs(workflow)["build"])


def test_python_version_is_one_that_still_gets_binary_releases() -> None:
    text = PYTHON_VERSION_FILE.read_text()
    match = re.fullmatch(r"3\.(\d+)\.(\d+)\n", text)

    # python.org ships installers (and actions/python-versions builds) only while a branch is
    # in bugfix; 3.11 got its last at 3.11.9, 3.12 and 3.13 are source-only security releases
    # now. No test here can ask python.org which branches those are (no network), so this
    # holds the floor the lead read in Aug 2026: 3.14, whose binaries go on until about
    # Oct 2027. Raise the floor when 3.14 becomes security-only; a 3.15 final passes as it is.
    assert match, f"{text!r}: write one full X.Y.Z final release, as setup-python pins it"
    assert int(match[1]) >= 14


def test_build_script_refuses_another_python_on_github_actions_only(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    build = load("build")
    wanted = PYTHON_VERSION_FILE.read_text().strip()
    monkeypatch.setattr(build.platform, "python_version", lambda: "3.11.7")
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.setenv("CI", "true")  # .ci/run's CI builds with this machine's Python

    build.check_python()
    assert f"releases are built with Python {wanted}" in capsys.readouterr().out

    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    with pytest.raises(build.BuildError, match=rf"is 3\.11\.7, but releases .* {wanted}"):
        build.check_python()

    monkeypatch.setattr(build.platform, "python_version", lambda: wanted)
    build.check_python()
    assert f"Building with Python {wanted}" in capsys.readouterr().out


# --- the tag check ----------------------------------------------------------------------------


def test_tag_job_checks_every_run_and_every_build_waits_for_it(workflow: dict[Any, Any]) -> None:
    tag = jobs(workflow)["tag"]
    check = step_named(tag, "tag")

    assert "if" not in tag  # tag pushes and manual runs: a branch passes without releasing
    assert check["run"] == 'python packaging/check_release_tag.py "$GITHUB_REF"'
    for output in ("version", "prerelease"):
        assert tag["outputs"][output] == f"${{{{ steps.{check['id']}.outputs.{output} }}}}"
    for name in ("build", "macos-intel", "release"):
        needs = jobs(workflow)[name]["needs"]
        assert "tag" in ([needs] if isinstance(needs, str) else needs), name


def run_tag_check(
    tmp_path: Path, version: str, ref: str | None
) -> tuple[subprocess.CompletedProcess[str], dict[str, str]]:
    """The real script, beside a copy of versions.py and an app/__init__.py with `version`."""
    (tmp_path / "packaging").mkdir(exist_ok=True)
    for script in ("check_release_tag.py", "versions.py"):
        shutil.copy(PACKAGING / script, tmp_path / "packaging" / script)
    (tmp_path / "app").mkdir(exist_ok=True)
    (tmp_path / "app" / "__init__.py").write_text(f'__version__ = "{version}"\n')
    output = tmp_path / "github-output"
    output.write_text("")
    env = {**os.environ, "GITHUB_OUTPUT": str(output)}
    env.pop("GITHUB_REF", None)
    result = subprocess.run(
        [sys.executable, str(tmp_path / "packaging" / "check_release_tag.py")]
        + ([] if ref is None else [ref]),
        capture_output=True,
        text=True,
        check=False,
        env=env,
        cwd=tmp_path,
    )
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines())
    return result, outputs


def test_tag_naming_the_version_passes_as_a_release(tmp_path: Path) -> None:
    result, outputs = run_tag_check(tmp_path, "0.2.0", "refs/tags/v0.2.0")

    assert result.returncode == 0, result.stderr
    assert result.stdout == "The tag v0.2.0 matches app.__version__ 0.2.0: a release.\n"
    assert outputs == {"version": "0.2.0", "prerelease": "false", "release": "true"}


def test_release_candidate_tag_is_a_prerelease(tmp_path: Path) -> None:
    result, outputs = run_tag_check(tmp_path, "0.2.0rc1", "refs/tags/v0.2.0rc1")

    assert result.returncode == 0, result.stderr
    assert "a pre-release" in result.stdout
    assert outputs["prerelease"] == "true"


@pytest.mark.parametrize(
    "tag",
    ["v0.2.1", "v0.2.0rc1", "0.2.0", "v0.2", "v0.2.0.post1", "v0.2.0-extra"],
)
def test_tag_not_naming_the_version_fails_with_one_sentence(tmp_path: Path, tag: str) -> None:
    result, outputs = run_tag_check(tmp_path, "0.2.0", f"refs/tags/{tag}")

    assert result.returncode == 1
    assert result.stderr == (
        f"check_release_tag: The tag {tag} does not match app.__version__ 0.2.0: tag the "
        "release v0.2.0, or set __version__ in app/__init__.py to the tag's version first.\n"
    )
    assert outputs == {}


def test_branch_builds_without_releasing(tmp_path: Path) -> None:
    result, outputs = run_tag_check(tmp_path, "0.2.0rc1", "refs/heads/main")

    assert result.returncode == 0, result.stderr
    assert "refs/heads/main is not a tag" in result.stdout
    assert outputs["release"] == "false"


def test_uncanonical_version_cannot_be_released(tmp_path: Path) -> None:
    result, _ = run_tag_check(tmp_path, "0.2.0-rc1", "refs/tags/v0.2.0-rc1")

    assert result.returncode == 1
    assert "app.__version__ cannot be released" in result.stderr


def test_this_version_s_tag_passes_the_real_script() -> None:
    result = subprocess.run(
        [sys.executable, str(PACKAGING / "check_release_tag.py"), f"refs/tags/v{__version__}"],
        capture_output=True,
        text=True,
        check=False,
        env={k: v for k, v in os.environ.items() if k != "GITHUB_OUTPUT"},
    )

    assert result.returncode == 0, result.stderr
    assert f"matches app.__version__ {__version__}" in result.stdout


# --- the builds -------------------------------------------------------------------------------


def _os_steps(workflow: dict[Any, Any], os_name: str) -> list[dict[str, Any]]:
    return [s for s in steps(jobs(workflow)["build"]) if s.get("if") == f"runner.os == '{os_name}'"]


@pytest.mark.parametrize("os_name", ["Linux", "Windows", "macOS"])
def test_each_system_builds_with_the_one_build_command(
    workflow: dict[Any, Any], os_name: str
) -> None:
    builds = [
        s for s in _os_steps(workflow, os_name) if s.get("run") == "python packaging/build.py"
    ]

    assert len(builds) == 1


def test_linux_builds_self_tests_and_installs_the_deb(workflow: dict[Any, Any]) -> None:
    linux = "\n".join(s.get("run", "") for s in _os_steps(workflow, "Linux"))

    assert "python packaging/build.py" in linux
    assert "packaging/with_keyring.sh" in linux
    assert "--self-test" in linux
    assert "bash packaging/smoke_test.sh dist/chatlio-segment-setup_*_amd64.deb" in linux


def test_windows_installs_inno_setup_then_smoke_tests_the_installer(
    workflow: dict[Any, Any],
) -> None:
    windows = _os_steps(workflow, "Windows")
    names = [s["name"] for s in windows]
    smoke = step_named(jobs(workflow)["build"], "Install per user")

    build = step_named(jobs(workflow)["build"], "Build (Windows")
    certificate = step_named(jobs(workflow)["build"], "Signing certificate (Windows")

    assert names.index("Inno Setup (Windows)") < names.index(build["name"])
    assert names.index(certificate["name"]) < names.index(build["name"])
    assert "WINDOWS_CERTIFICATE_PATH=" in certificate["run"]  # what windows_signing.py reads
    assert build["env"] == {
        "WINDOWS_CERTIFICATE_PASSWORD": "${{ secrets.WINDOWS_CERTIFICATE_PASSWORD }}"
    }
    assert smoke in windows
    assert names.index(smoke["name"]) > names.index(build["name"])
    assert (
        "chatlio-segment-setup-cli.exe --self-test"
        in step_named(jobs(workflow)["build"], "Self-test the frozen app (Windows)")["run"]
    )
    assert f"pwsh -NoProfile -File {WINDOWS_SMOKE} -Setup $installer" in smoke["run"]
    assert "@('-Signed')" in smoke["run"]  # the signatures are checked when there are some
    assert "$LASTEXITCODE" in smoke["run"]
    assert '"dist\\chatlio-segment-setup-$env:VERSION-setup.exe"' in smoke["run"]
    assert jobs(workflow)["build"]["env"]["VERSION"] == "${{ needs.tag.outputs.version }}"


def _declared_parameters(script: str) -> tuple[set[str], set[str]]:
    """(every parameter, the mandatory ones) of a PowerShell script's param() block."""
    block = re.search(r"^param\((.*?)^\)", script, re.MULTILINE | re.DOTALL | re.IGNORECASE)
    assert block, "no param() block"
    every, mandatory = set(), set()
    for declaration in re.split(r",\s*\n", block[1]):
        names = [
            n.lower()
            for n in re.findall(r"\$(\w+)", declaration)
            if n.lower() not in {"true", "false", "null"}
        ]
        if names:
            every.add(names[0])
            if re.search(r"Mandatory\s*=\s*\$true", declaration, re.IGNORECASE):
                mandatory.add(names[0])
    return every, mandatory


def test_windows_smoke_script_takes_the_parameters_the_workflow_passes(
    workflow: dict[Any, Any],
) -> None:
    script = ROOT / WINDOWS_SMOKE
    assert script.is_file(), f"{WINDOWS_SMOKE} is missing"
    run = step_named(jobs(workflow)["build"], "Install per user")["run"]
    (command,) = [line for line in run.splitlines() if WINDOWS_SMOKE in line]
    passed = {name.lower() for name in re.findall(r"\s-(\w+)", command.split(WINDOWS_SMOKE)[1])}

    declared, mandatory = _declared_parameters(script.read_text())

    assert passed <= declared, f"the script has no {passed - declared}"
    assert mandatory <= passed, f"the workflow does not pass {mandatory - passed}"


def test_macos_builds_universal2_on_arm64_and_smoke_tests_the_dmg_on_both(
    workflow: dict[Any, Any],
) -> None:
    macos = _os_steps(workflow, "macOS")
    names = [s["name"] for s in macos]
    build = step_named(jobs(workflow)["build"], "Build (macOS")
    smoke = step_named(jobs(workflow)["build"], "DMG", "Apple silicon")
    intel = jobs(workflow)["macos-intel"]
    intel_smoke = step_named(intel, "DMG", "Intel")
    download = next(s for s in steps(intel) if "download-artifact" in s.get("uses", ""))

    assert (ROOT / MACOS_SMOKE).is_file(), f"{MACOS_SMOKE} is missing"
    assert smoke in macos
    assert names.index(build["name"]) < names.index(smoke["name"])
    assert not [s for s in macos if "pyinstaller-dist" in s.get("run", "")]  # not the build folder
    for step in (smoke, intel_smoke):
        assert f'bash {MACOS_SMOKE} "$1"' in step["run"]
        expect = step["env"]["MACOS_EXPECT_NOTARIZED"]
        for secret in ("MACOS_SIGNING_IDENTITY", "APPLE_ID", "APPLE_TEAM_ID", "APPLE_APP_PASSWORD"):
            assert f"secrets.{secret} != ''" in expect
        assert expect.endswith("&& '1' || '' }}")
    assert "build" in intel["needs"]
    assert download["with"] == {"name": "release-macOS", "path": "release"}
    assert "release/*.dmg" in intel_smoke["run"]
    assert "uname -m" in intel_smoke["run"]


def test_builds_upload_release_files_apart_from_logs(workflow: dict[Any, Any]) -> None:
    uploads = [s for s in steps(jobs(workflow)["build"]) if "upload-artifact" in s.get("uses", "")]
    release = next(s for s in uploads if s["with"]["name"] == "release-${{ runner.os }}")
    logs = next(s for s in uploads if s["with"]["name"] == "logs-${{ runner.os }}")

    assert "if" not in release  # only a build that passed every check
    assert release["with"]["if-no-files-found"] == "error"
    assert all(p.startswith("dist/") for p in release["with"]["path"].split())
    assert logs["if"] == "always()"
    assert "build/smoke/" in logs["with"]["path"].split()
    assert not [p for p in logs["with"]["path"].split() if p.startswith("dist/")]


def test_every_upload_may_replace_its_artifact_when_a_failed_job_is_run_again(
    workflow: dict[Any, Any],
) -> None:
    uploads = [
        step
        for job in jobs(workflow).values()
        for step in steps(job)
        if "upload-artifact" in step.get("uses", "")
    ]

    assert len(uploads) >= 3
    assert all(step["with"].get("overwrite") is True for step in uploads)


# --- the release ------------------------------------------------------------------------------


def test_release_job_runs_only_for_tags_after_every_check_and_alone_may_write(
    workflow: dict[Any, Any],
) -> None:
    release = jobs(workflow)["release"]
    download = next(s for s in steps(release) if "download-artifact" in s.get("uses", ""))
    scripts = "\n".join(s.get("run", "") for s in steps(release))

    assert release["if"] == "github.event_name == 'push' && startsWith(github.ref, 'refs/tags/v')"
    assert set(release["needs"]) == {"tag", "build", "macos-intel"}
    assert release["permissions"] == {"contents": "write"}
    assert [n for n, job in jobs(workflow).items() if "permissions" in job] == ["release"]
    assert download["with"]["pattern"] == "release-*"  # never the logs-* artifacts
    assert "SHA256SUMS" in scripts
    assert 'gh release create "$GITHUB_REF_NAME" --verify-tag' in scripts


@pytest.fixture
def fake_gh(tmp_path: Path) -> Path:
    """A `gh` first on PATH that records its arguments, one a line (GitHub is not here)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    gh = bin_dir / "gh"
    gh.write_text('#!/bin/sh\nprintf "%s\\n" "$@" > "$GH_ARGS"\n')
    gh.chmod(gh.stat().st_mode | stat.S_IXUSR)
    return bin_dir


def run_release_steps(
    workflow: dict[Any, Any], workspace: Path, fake_gh: Path, *, prerelease: bool
) -> subprocess.CompletedProcess[str]:
    """The release job's shell steps as GitHub runs them (bash -eo pipefail, in order)."""
    release = jobs(workflow)["release"]
    env = {
        **os.environ,
        "PATH": f"{fake_gh}{os.pathsep}{os.environ['PATH']}",
        "GH_ARGS": str(workspace / "gh-args"),
        "GITHUB_REF_NAME": "v0.2.0",
    }
    for step in (s for s in steps(release) if "run" in s):
        step_env = {
            key: {
                "${{ needs.tag.outputs.version }}": "0.2.0",
                "${{ needs.tag.outputs.prerelease }}": "true" if prerelease else "false",
            }.get(value, "from-github")
            for key, value in step.get("env", {}).items()
        }
        result = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
            capture_output=True,
            text=True,
            check=False,
            env={**env, **step_env},
            cwd=workspace / step.get("working-directory", "."),
        )
        if result.returncode != 0:
            return result
    return result


def _release_workspace(tmp_path: Path, files: tuple[str, ...]) -> Path:
    workspace = tmp_path / "workspace"
    (workspace / "release").mkdir(parents=True)
    for name in files:
        (workspace / "release" / name).write_bytes(f"contents of {name}".encode())
    return workspace


@pytest.mark.parametrize("prerelease", [False, True], ids=["release", "prerelease"])
def test_release_publishes_the_five_files_and_their_checksums(
    workflow: dict[Any, Any], tmp_path: Path, fake_gh: Path, prerelease: bool
) -> None:
    workspace = _release_workspace(tmp_path, RELEASE_FILES)

    result = run_release_steps(workflow, workspace, fake_gh, prerelease=prerelease)

    assert result.returncode == 0, result.stderr
    sums = (workspace / "release" / "SHA256SUMS").read_text().splitlines()
    assert sorted(line.split("  ", 1)[1] for line in sums) == sorted(RELEASE_FILES)
    check = subprocess.run(
        ["sha256sum", "--check", "--strict", "SHA256SUMS"],
        cwd=workspace / "release",
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    args = (workspace / "gh-args").read_text().splitlines()
    assert args[:4] == ["release", "create", "v0.2.0", "--verify-tag"]
    assert ("--prerelease" in args) is prerelease
    uploaded = sorted(Path(a).name for a in args if a.startswith("release/"))
    assert uploaded == sorted([*RELEASE_FILES, "SHA256SUMS"])


def test_release_stops_when_a_system_s_file_is_missing(
    workflow: dict[Any, Any], tmp_path: Path, fake_gh: Path
) -> None:
    workspace = _release_workspace(tmp_path, RELEASE_FILES[:-1])

    result = run_release_steps(workflow, workspace, fake_gh, prerelease=False)

    assert result.returncode == 1
    assert "expected one *.dmg among the builds' files, found: none" in result.stderr
    assert not (workspace / "gh-args").exists()


# --- the lock ---------------------------------------------------------------------------------


def lock_entries() -> dict[str, tuple[Requirement, list[str]]]:
    """Each locked package: its requirement (name==version ; marker) and its hashes."""
    text = LOCK.read_text().replace("\\\n", " ")
    entries: dict[str, tuple[Requirement, list[str]]] = {}
    for raw in text.splitlines():
        line = re.sub(r"(^|\s)#.*", "", raw).strip()  # pip's comments
        if not line:
            continue
        requirement, *options = re.split(r"\s+(?=--)", line)
        parsed = Requirement(requirement)
        entries[canonicalize_name(parsed.name)] = (parsed, options)
    assert len(entries) >= 20
    return entries


def pins(path: Path) -> dict[str, Version]:
    """name -> version for each `name==version` line (markers ignored)."""
    result: dict[str, Version] = {}
    for line in path.read_text().splitlines():
        match = re.match(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)", line)
        if match:
            result[canonicalize_name(match[1])] = Version(match[2])
    return result


def locked_version(requirement: Requirement) -> Version:
    (specifier,) = requirement.specifier
    assert specifier.operator == "==", f"{requirement} is not pinned exactly"
    return Version(specifier.version)


def test_every_locked_package_is_pinned_exactly_with_hashes() -> None:
    for name, (requirement, options) in lock_entries().items():
        locked_version(requirement)
        hashes = [o for o in options if re.fullmatch(r"--hash=sha256:[0-9a-f]{64}", o)]
        assert hashes, f"{name} has no --hash=sha256"
        assert hashes == options, f"{name}: unexpected options {options}"


def test_lock_pins_pywin32_ctypes_for_windows_only() -> None:
    requirement, _ = lock_entries()["pywin32-ctypes"]

    assert requirement.marker is not None
    assert requirement.marker.evaluate({"sys_platform": "win32"})
    assert not requirement.marker.evaluate({"sys_platform": "linux"})
    assert not requirement.marker.evaluate({"sys_platform": "darwin"})


def test_lock_holds_constraints_versions_where_they_overlap() -> None:
    locked = {name: locked_version(req) for name, (req, _) in lock_entries().items()}
    constrained = pins(ROOT / "constraints.txt")
    named = (
        "pyside6-essentials",
        "shiboken6",
        "httpx",
        "httpcore",
        "h11",
        "keyring",
        "truststore",
        "certifi",
        "pywin32-ctypes",
    )

    assert set(named) <= locked.keys() & constrained.keys()
    differing = {
        name: (str(locked[name]), str(constrained[name]))
        for name in locked.keys() & constrained.keys()
        if locked[name] != constrained[name]
    }
    assert not differing, f"lock vs constraints.txt: {differing}; run `bash scripts/dev lock`"


def test_lock_holds_the_build_tools_versions() -> None:
    locked = {name: locked_version(req) for name, (req, _) in lock_entries().items()}
    tools = pins(PACKAGING / "requirements.txt")

    assert set(tools) == {"pyinstaller", "pyinstaller-hooks-contrib", "altgraph"}
    for name, version in tools.items():
        assert locked[name] == version, name


def test_lock_satisfies_every_runtime_dependency_of_pyproject() -> None:
    entries = lock_entries()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]

    for dependency in project["dependencies"]:
        wanted = Requirement(dependency)
        name = canonicalize_name(wanted.name)
        assert name in entries, f"{wanted.name} is not in the lock: run `bash scripts/dev lock`"
        requirement, _ = entries[name]
        assert requirement.marker is None, f"{name} must be locked for every platform"
        version = locked_version(requirement)
        assert wanted.specifier.contains(version, prereleases=True), f"{name} {version}"


def test_build_script_installs_exactly_the_lock_for_the_release(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    build = load("build")
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)  # this machine's Python builds here
    commands: list[list[str]] = []

    class FakeEnvBuilder:
        def __init__(self, **options: object) -> None:
            assert options["system_site_packages"] is False

        def create(self, path: Path) -> None:
            path.mkdir(parents=True)

    monkeypatch.setattr(build.venv, "EnvBuilder", FakeEnvBuilder)
    monkeypatch.setattr(build, "run", lambda args, **_: commands.append([str(a) for a in args]))
    lock = tmp_path / "release.lock"
    shutil.copy(LOCK, lock)
    monkeypatch.setattr(build, "LOCK", lock)

    build.ensure_venv(tmp_path / "pack", build.runtime_dependencies(full_pyside=False), fresh=True)
    stamp = (tmp_path / "pack" / ".build-stamp").read_text()

    install = commands[0]
    assert install[install.index("-m") + 1 :][:2] == ["pip", "--disable-pip-version-check"]
    assert {"--require-hashes", "--no-deps"} <= set(install)
    assert install[install.index("--only-binary") + 1] == ":all:"  # the wheels tested, no builds
    assert install[install.index("-r") + 1] == str(lock)
    assert "-c" not in install
    assert [c[-1] for c in commands] == [str(lock), "check"]  # no pip upgrade, nothing else

    lock.write_text(lock.read_text() + "\n")
    commands.clear()
    build.ensure_venv(tmp_path / "pack2", build.runtime_dependencies(full_pyside=False), fresh=True)
    assert (tmp_path / "pack2" / ".build-stamp").read_text() != stamp  # the lock's text counts

    commands.clear()
    build.ensure_venv(tmp_path / "naive", build.runtime_dependencies(full_pyside=True), fresh=True)
    assert all("--require-hashes" not in c for c in commands)
    assert any("-c" in c and str(ROOT / "constraints.txt") in c for c in commands)


def test_build_script_refuses_a_lock_that_misses_a_requirement(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    build = load("build")
    lock = tmp_path / "release.lock"
    lock.write_text(re.sub(r"(?m)^truststore==.*$", "", LOCK.read_text()))
    monkeypatch.setattr(build, "LOCK", lock)

    build.check_lock(["httpx>=0.27,<1"])
    with pytest.raises(build.BuildError, match=r"does not pin truststore: regenerate it"):
        build.check_lock(build.runtime_dependencies(full_pyside=False))
