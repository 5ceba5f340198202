"""Command hooks get a scrubbed environment (D16): the BG_* variables, a short allow-list and what
`[tool.migrator.hook] env` names; never MIGRATOR_DATABASE_URL, PGPASSWORD or the webhook secret. Real hook
processes, through the hook API and through `migrator router check`."""

from __future__ import annotations

import stat
import textwrap
from pathlib import Path

import pytest

from migrator.errors import ConfigError
from migrator.routers import HookPayload, get_hook
from tests._cli import run

SECRETS = {
    "MIGRATOR_DATABASE_URL": "postgresql://app:db-Pa55word@db.internal:5432/shop",
    "DATABASE_URL": "postgresql://app:db-Pa55word@db.internal:5432/shop",
    "PGPASSWORD": "db-Pa55word",
    "MIGRATOR_WEBHOOK_SECRET": "wh-secret-123",
    "AWS_SECRET_ACCESS_KEY": "aws-secret-456",
}
KEPT = {"LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "LC_TIME": "C", "TZ": "UTC", "TMPDIR": "/tmp", "USER": "deploy",
        "HOME": "/home/deploy"}

DUMP = """
    env > "$(dirname "$0")/env.txt"
    printf '{"observed": {"active_color": "blue"}}'
"""


def _hook_script(folder: Path) -> Path:
    path = folder / "router.sh"
    path.write_text("#!/bin/sh\n" + textwrap.dedent(DUMP).lstrip())
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def _env_seen(folder: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in (folder / "env.txt").read_text().splitlines() if "=" in line)
    return {k: v for k, v in pairs}


def test_command_hook_gets_only_bg_variables_the_allow_list_and_listed_names(tmp_path, monkeypatch):
    for key, value in {**SECRETS, **KEPT, "ROUTER_STATE": "/srv/live", "ACME_TOKEN": "t", "ACME_REGION": "eu",
                       "UNLISTED": "x"}.items():
        monkeypatch.setenv(key, value)
    hook = get_hook({"kind": "command", "command": [str(_hook_script(tmp_path))],
                     "env": ["ROUTER_STATE", "ACME_*", "NOT_SET_ANYWHERE"]}, project_dir=tmp_path)
    response = hook.switch(HookPayload("r-1", "switch", "switch", from_color="blue", to_color="green"))
    assert response.ok, response
    seen = _env_seen(tmp_path)
    leaked = sorted(k for k in [*SECRETS, "UNLISTED", "NOT_SET_ANYWHERE"] if k in seen)
    assert not leaked, leaked
    assert "db-Pa55word" not in (tmp_path / "env.txt").read_text()
    unexpected = sorted(k for k in seen if not (k.startswith(("BG_", "LC_", "ACME_")) or k in (
        "PATH", "HOME", "LANG", "TZ", "TMPDIR", "USER", "ROUTER_STATE", "PWD", "SHLVL", "_")))
    assert not unexpected, unexpected  # names only: PWD, SHLVL and _ are set by the shell itself
    for key, value in {**KEPT, "ROUTER_STATE": "/srv/live", "ACME_TOKEN": "t", "ACME_REGION": "eu"}.items():
        assert seen.get(key) == value, key
    assert seen["PATH"]
    assert seen["BG_ACTION"] == "switch" and seen["BG_TO"] == "green" and seen["BG_RELEASE_ID"] == "r-1"


def test_router_check_runs_the_hook_without_the_database_url(tmp_path):
    _hook_script(tmp_path)
    (tmp_path / "pyproject.toml").write_text('[tool.migrator.hook]\nkind = "command"\ncommand = ["./router.sh"]\n')
    result = run("router", "check", cwd=tmp_path, env=SECRETS)
    assert result.code == 0, result.err
    seen = _env_seen(tmp_path)
    leaked = sorted(k for k in SECRETS if k in seen)
    assert not leaked, leaked
    assert seen["BG_ACTION"] == "current"


@pytest.mark.parametrize("value", ["ROUTER_STATE", ["1BAD"], ["A B"], [3], ["*"]])
def test_env_must_be_a_list_of_names(tmp_path, value):
    with pytest.raises(ConfigError, match="env"):
        get_hook({"kind": "command", "command": ["./router.sh"], "env": value}, project_dir=tmp_path)
