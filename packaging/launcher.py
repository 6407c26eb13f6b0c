"""The frozen app's entry script: the same `main` that `python -m app` runs.

`--self-test` is answered here before the command line is parsed, so that the frozen app can
report a module that fails to import even when that module is the command line itself.
"""

import sys


def run() -> int:
    if sys.argv[1:2] == ["--self-test"]:
        from app.selftest import main as self_test

        return self_test(sys.argv[2:])
    from app.__main__ import main

    return main()


if __name__ == "__main__":
    sys.exit(run())
