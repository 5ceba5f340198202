"""migrator's suite gate: a pytest plugin (`-p _migrator_suite_gate`, from a folder of its own on PYTHONPATH) for a
suite that `migrator compat` starts before its database is ready.

pytest starts, loads its plugins, then waits here, before any conftest imports the app (apps read their
database at import), until migrator writes "go" to the pipe named by MIGRATOR_SUITE_GATE_FD. A closed pipe
(migrator gave up or died) ends the process. "go <folder>" also loads migrator.pytest_plugin from that folder
(for an interpreter that cannot import migrator: the folder goes on sys.path and PYTHONPATH, as with
`-p migrator.pytest_plugin`). How long it waited is written to MIGRATOR_SUITE_GATE_REPORT, so that migrator
counts only pytest's own time as the suite's. Only pytest and the standard library: it runs in the app's
interpreter.
"""

import os
import sys
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
    line = b""
    try:
        while not line.endswith(b"\n"):
            chunk = os.read(int(fd), 4096)
            if not chunk:
                break
            line += chunk
        os.close(int(fd))
    except (OSError, ValueError):
        line = b""
    waited = time.monotonic() - began
    word, _, plugin_path = line.rstrip(b"\n").partition(b" ")
    if word != b"go":
        os._exit(70)  # migrator is gone or gave up: the database this suite was meant for may never exist
    if plugin_path:
        folder = os.fsdecode(plugin_path)
        sys.path.append(folder)
        os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (os.environ.get("PYTHONPATH"), folder) if p)
        early_config.pluginmanager.import_plugin("migrator.pytest_plugin")
    if report:
        try:
            with open(report, "w", encoding="utf-8") as handle:
                handle.write("%.6f" % waited)
        except OSError:
            pass
