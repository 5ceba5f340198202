"""While `switch` waits for the router, progress goes to stderr (through the `migrator` logger), at most every
PROGRESS_EVERY seconds: the step, the attempt, the colour the router reports and the time left. A real command
hook that answers "in progress" for a while."""

from __future__ import annotations

import logging
import re
import stat
import textwrap
import time
from pathlib import Path

import pytest

from migrator.routers import CommandHook, move_traffic, traffic
from migrator.release.errors import HookFailed

SLOW_ROUTER = """
    d="$(dirname "$0")"
    case "$BG_ACTION" in
      switch) exit 0 ;;
      verify)
        # serves blue for the first 20 polls (about a second), then green
        n=$(( $(cat "$d/polls" 2>/dev/null || echo 0) + 1 )); echo "$n" > "$d/polls"
        if [ "$n" -gt 20 ]; then
          printf '{"status": "succeeded", "observed": {"active_color": "green"}}'; exit 0
        fi
        printf '{"status": "in_progress", "retry_after_s": 0.05, "observed": {"active_color": "blue"}}'; exit 75 ;;
    esac
    exit 1
"""


def _hook(tmp_path: Path, body: str) -> CommandHook:
    path = tmp_path / "router.sh"
    path.write_text("#!/bin/sh\n" + textwrap.dedent(body).lstrip())
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return CommandHook([str(path)], poll_interval=0.05)


def test_verify_polling_reports_progress(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(traffic, "PROGRESS_EVERY", 0.3, raising=False)
    caplog.set_level(logging.INFO, logger="migrator")
    started = time.monotonic()
    response = move_traffic(_hook(tmp_path, SLOW_ROUTER), "r-1", "green", "blue", "switch", {}, 30)
    elapsed = time.monotonic() - started
    assert response.observed_color == "green"
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("migrator.routers")]
    assert lines, "nothing was reported while the router was polled"
    assert len(lines) <= elapsed / 0.3 + 1  # at most every PROGRESS_EVERY seconds
    pattern = re.compile(r"switch blue -> green: waiting for the router to serve green: verify attempt (\d+), "
                         r"router serves blue, (\d+)s left")
    for line in lines:
        found = pattern.fullmatch(line)
        assert found, line
        assert 0 < int(found.group(2)) <= 30
    assert int(pattern.fullmatch(lines[-1]).group(1)) > 1


def test_quick_switch_reports_nothing(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="migrator")
    hook = _hook(tmp_path, """
        printf '{"status": "succeeded", "observed": {"active_color": "green"}}'
    """)
    assert move_traffic(hook, "r-1", "green", "blue", "switch", {}, 30).ok
    assert not [r for r in caplog.records if r.name.startswith("migrator.routers")]


def test_switch_in_progress_reports_too(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(traffic, "PROGRESS_EVERY", 0.2, raising=False)
    caplog.set_level(logging.INFO, logger="migrator")
    hook = _hook(tmp_path, """
        printf '{"status": "in_progress", "message": "draining blue", "retry_after_s": 0.05}'; exit 75
    """)
    with pytest.raises(HookFailed):
        move_traffic(hook, "r-1", "green", "blue", "switch", {}, 1)
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("migrator.routers")]
    assert lines and all(re.fullmatch(r"switch blue -> green: switch attempt \d+ in progress \(draining blue\), "
                                      r"\d+s left", line) for line in lines), lines
