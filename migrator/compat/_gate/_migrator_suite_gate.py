"""migrator's suite gate: a pytest plugin (`-p _migrator_suite_gate`, from a folder of its own on PYTHONPATH) for a
suite that `migrator compat` starts before its database is ready.

pytest starts, loads its plugins, then waits here, before any conftest imports the app (apps read their
database at import), until migrator writes "go" to the pipe named by MIGRATOR_SUITE_GATE_FD. A closed pipe
(migrator gave up or died) ends the process. How long it waited is written to MIGRATOR_SUITE_GATE_REPORT, so
that migrator counts only pytest's own time as the suite's. Standard library only: it runs in the app's
interpreter, which may not have migrator.
"""

import os
import time

import pytest

FD_ENV = "MIGRATOR_SUITE_GATE_FD"
REPORT_ENV = "MIGRATOR_SUITE_GATE_REPORT"


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args):
    fd = os.environ.pop(FD_ENV, "")
    report = os.environ.pop(REPORT_ENV, "")
    if not fd:
        return
    began = time.monotonic()
    try:
        word = os.read(int(fd), 16)
        os.close(int(fd))
    except (OSError, ValueError):
        word = b""
    waited = time.monotonic() - began
    if not word.startswith(b"go"):
        os._exit(70)  # migrator is gone or gave up: the database this suite was meant for may never exist
    if report:
        try:
            with open(report, "w", encoding="utf-8") as handle:
                handle.write("%.6f" % waited)
        except OSError:
            pass
