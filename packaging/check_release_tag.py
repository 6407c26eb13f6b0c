"""Check that a release tag names app.__version__: `python packaging/check_release_tag.py REF`.

REF is a Git ref (default: $GITHUB_REF). A tag must be exactly `refs/tags/v` + app.__version__
(v0.2.0rc1 for 0.2.0rc1); anything else fails with a sentence saying what to change. A branch
(a workflow_dispatch run) builds without releasing and passes. The script says whether the
version is a pre-release, and writes `version`, `prerelease` and `release` to $GITHUB_OUTPUT
when GitHub Actions gives one, so the release job can mark the GitHub Release.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

import versions  # packaging/versions.py: this script's folder is first on sys.path

ROOT = Path(__file__).resolve().parent.parent
TAG_PREFIX = "refs/tags/"


class TagError(Exception):
    """The ref cannot be released; the message is the one sentence to show."""


def app_version() -> str:
    """app.__version__ from app/__init__.py, which imports nothing."""
    sys.path.insert(0, str(ROOT))
    import app

    return str(app.__version__)


def check(ref: str, version: str) -> dict[str, str]:
    """The step outputs for `ref`; TagError when it is a tag that does not name `version`."""
    try:
        parsed = versions.parse(version)
    except versions.VersionError as exc:
        raise TagError(f"app.__version__ cannot be released: {exc}.") from exc
    if not ref.startswith(TAG_PREFIX):
        return {"version": version, "prerelease": "false", "release": "false"}
    tag = ref.removeprefix(TAG_PREFIX)
    if tag != f"v{version}":
        raise TagError(
            f"The tag {tag} does not match app.__version__ {version}: tag the release "
            f"v{version}, or set __version__ in app/__init__.py to the tag's version first."
        )
    return {
        "version": version,
        "prerelease": "true" if parsed.prerelease else "false",
        "release": "true",
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) > 1 or any(a.startswith("-") for a in args):
        print(__doc__.splitlines()[0], file=sys.stderr)
        return 2
    ref = args[0] if args else os.environ.get("GITHUB_REF", "")
    version = app_version()
    try:
        outputs = check(ref, version)
    except TagError as exc:
        print(f"check_release_tag: {exc}", file=sys.stderr)
        return 1
    kind = "a pre-release" if outputs["prerelease"] == "true" else "a release"
    if outputs["release"] == "true":
        print(f"The tag {ref.removeprefix(TAG_PREFIX)} matches app.__version__ {version}: {kind}.")
    else:
        what = f"{ref} is not a tag" if ref else "No ref given (GITHUB_REF is unset)"
        print(f"{what}: {version} is built without a release.")
    github_output = os.environ.get("GITHUB_OUTPUT")
    if github_output:
        with open(github_output, "a", encoding="utf-8") as handle:
            handle.writelines(f"{key}={value}\n" for key, value in outputs.items())
    return 0


if __name__ == "__main__":
    sys.exit(main())
