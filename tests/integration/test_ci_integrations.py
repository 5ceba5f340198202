"""Where developers already are: the pre-commit hooks (.pre-commit-hooks.yaml) and the GitHub Action
(action.yml + tools/action.sh), run as shipped."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent  # the venv's migrator

MIXED = "SET lock_timeout = '1s';\nALTER TABLE users ADD COLUMN nickname text;\nALTER TABLE users DROP COLUMN name;\n"
SAFE = "SET lock_timeout = '1s';\nALTER TABLE users ADD COLUMN nickname text;\n"


def run_action(tmp_path: Path, **inputs: str) -> tuple[subprocess.CompletedProcess, dict]:
    output = tmp_path / "github_output"
    output.write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIGRATOR_")}
    env.update({f"MIGRATOR_INPUT_{k.upper()}": v for k, v in inputs.items()})
    env.update(GITHUB_OUTPUT=str(output), PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}")
    done = subprocess.run(["bash", str(ROOT / "tools" / "action.sh")], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120)
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines() if "=" in line)
    return done, outputs


def test_action_lint_annotates_writes_sarif_and_reports_the_exit_code(tmp_path):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "001_mixed.sql").write_text(MIXED)
    done, outputs = run_action(tmp_path, command="lint", paths="m", sarif="true")
    assert done.returncode == 0, done.stderr  # the step records the code; the action's last step fails
    assert outputs["exit-code"] == "1"
    assert "::warning file=m/001_mixed.sql" in done.stdout and "P505" in done.stdout
    sarif = json.loads((tmp_path / "migrator.sarif").read_text())
    assert any(r["ruleId"] == "P505" for r in sarif["runs"][0]["results"])


def test_action_lint_passes_a_safe_migration(tmp_path):
    (tmp_path / "001_add.sql").write_text(SAFE)
    done, outputs = run_action(tmp_path, command="classify", paths="001_add.sql", sarif="false")
    assert outputs["exit-code"] == "0", done.stdout + done.stderr
    assert not (tmp_path / "migrator.sarif").exists()


def test_action_refuses_what_it_cannot_run(tmp_path):
    assert run_action(tmp_path, command="compat")[1]["exit-code"] == "2"      # no blue
    assert run_action(tmp_path, command="deploy")[1]["exit-code"] == "2"


def test_action_yml_passes_every_input_to_the_script_as_a_variable():
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    step = next(s for s in action["runs"]["steps"] if s.get("id") == "run")
    assert step["run"] == 'bash "$GITHUB_ACTION_PATH/tools/action.sh"'
    script = (ROOT / "tools" / "action.sh").read_text()
    for name in action["inputs"]:
        if name == "python-version":
            continue
        variable = "MIGRATOR_INPUT_" + name.upper().replace("-", "_")
        assert step["env"][variable] == "${{ inputs.%s }}" % name
        assert variable in script
    # no input is spliced into a script's text (shell injection from a PR title, a branch name...)
    for s in action["runs"]["steps"]:
        assert "inputs." not in s.get("run", "").replace("${{ inputs.command }}", ""), s


@pytest.mark.skipif(shutil.which("git") is None, reason="git missing")
def test_pre_commit_hooks_as_shipped(tmp_path):
    """`pre-commit try-repo` installs this checkout as pre-commit would and runs both hooks."""
    pre_commit = BIN / "pre-commit"
    if not pre_commit.exists():
        pytest.skip("pre-commit is not installed (pip install -e '.[test]')")
    repo = tmp_path / "app"
    shutil.copytree(ROOT / "migrations", repo / "migrations", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "alembic.ini", repo / "alembic.ini")
    (repo / "sql").mkdir()
    (repo / "sql" / "002_mixed.sql").write_text(MIXED)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MIGRATOR_", "VIRTUAL_ENV", "PYTHONPATH"))}
    env.update(PRE_COMMIT_HOME=str(tmp_path / "cache"), PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"]
    subprocess.run([*git, "init", "-q"], cwd=repo, check=True)
    subprocess.run([*git, "add", "-A"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-qm", "app"], cwd=repo, check=True)
    revision = next((repo / "migrations" / "versions").glob("0003_*.py")).relative_to(repo)
    done = subprocess.run([str(pre_commit), "try-repo", str(ROOT), "--verbose", "--files", "sql/002_mixed.sql", str(revision)],
                          cwd=repo, env=env, capture_output=True, text=True, timeout=600)
    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    lines = {line.split("...")[0].strip(): line.rsplit(".", 1)[-1].strip() for line in out.splitlines()
             if line.startswith("migrator lint") and "..." in line}
    assert lines == {"migrator lint (SQL migrations)": "Failed", "migrator lint (alembic revisions)": "Passed"}, out
    assert "P505 mixed-migration" in out
    # the alembic hook reported the changed revision alone (the whole history was read for context)
    assert "EXPAND  migrations/versions/0003_" in out and "0005_" not in out and "1 migration," in out
