"""migrator.config: one loader for every [tool.migrator...] table, checked declaratively."""

from __future__ import annotations

import subprocess
import sys

import pytest

from migrator.config import load_config, load_project_config
from migrator.errors import ConfigError
from migrator.phases import Severity


def write(tmp_path, text: str):
    path = tmp_path / "pyproject.toml"
    path.write_text(text)
    return path


def test_every_section_comes_from_one_read(tmp_path):
    path = write(tmp_path, '[tool.migrator]\nfail_on = "warning"\n'
                           '[tool.migrator.compat]\nsuite = "tests/compat"\ntimeout = 60\nworkers = "auto"\n'
                           '[tool.migrator.compat.env]\nAPP_ENV = "test"\n'
                           '[tool.migrator.release]\nlock_timeout = "2s"\nsoak = "1h30m"\n'
                           '[tool.migrator.hook]\nkind = "command"\ncommand = ["./router.sh"]\n'
                           '[tool.migrator.fleet]\nurls = ["postgresql://db/a"]\n')
    config = load_config(path)
    assert config.fail_on is Severity.WARNING
    assert config.compat.items() == {"suite": "tests/compat", "timeout": 60.0, "workers": "auto",
                                     "env": {"APP_ENV": "test"}}
    assert config.compat.provider == "auto"  # a default, not given
    assert (config.release.lock_timeout, config.release.soak, config.release.given) == (
        2.0, 5400.0, frozenset({"lock_timeout", "soak"}))
    assert config.hook == {"kind": "command", "command": ["./router.sh"]}
    assert config.fleet == {"urls": ["postgresql://db/a"]}
    assert load_project_config(tmp_path / "absent").compat.items() == {}


@pytest.mark.parametrize("text, message", [
    ('[tool.migrator]\ncolour = "blue"\n', r"pyproject.toml: \[tool.migrator\]: unknown key 'colour' \(known: "),
    ('[tool.migrator.release]\nlock_timeout = "soon"\n',
     r"pyproject.toml: \[tool.migrator.release\] lock_timeout: expected a duration like '2s' .*got 'soon'"),
    ("[tool.migrator.release]\nlock_retries = 1.5\n",
     r"\[tool.migrator.release\] lock_retries: expected a whole number >= 0, got 1.5"),
    ('[tool.migrator.release]\nretry_backoff = { base = "1s", min = "0" }\n',
     r"\[tool.migrator.release\] retry_backoff: unknown key\(s\) min"),
    ("[tool.migrator.compat]\ntimeout = true\n", r"\[tool.migrator.compat\] timeout: expected a number, got True"),
    ("[tool.migrator.compat]\nsuit = \"x\"\n", r"\[tool.migrator.compat\]: unknown key 'suit'"),
    ("[tool.migrator.compat]\nworkers = 0\n", r"\[tool.migrator.compat\] workers: expected a number >= 1 or \"auto\""),
    ("[tool.migrator.compat.env_map]\nPORT = 5432\n",
     r"\[tool.migrator.compat\] env_map: expected a table of strings, got PORT = 5432"),
    ('[tool.migrator.compat]\nprovider = "cloud"\n', r"provider: expected one of auto, url, embedded, local, docker"),
    ("[tool.migrator]\nhook = 3\n", r"\[tool.migrator.hook\] must be a table"),
    ("[tool.migrator]\nmax_file_size = \"lots\"\n", r"\[tool.migrator\] max_file_size: must be a size such as \"64 MiB\", got 'lots'"),
])
def test_unknown_keys_and_wrong_types_name_the_key(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path, text))


def test_a_bad_table_is_a_one_line_exit_2(tmp_path):
    write(tmp_path, '[tool.migrator.release]\nlock_timeout = "soon"\n')
    (tmp_path / "ok.sql").write_text("SELECT 1;\n")
    proc = subprocess.run([sys.executable, "-m", "migrator.cli", "classify", "ok.sql"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip().count("\n") == 0 and "lock_timeout" in proc.stderr, proc.stderr


def test_importing_config_stays_light():
    code = ("import sys, migrator.config; heavy = [m for m in sys.modules if m.split('.')[0] in "
            "('sqlglot', 'sqlalchemy', 'psycopg') or m.startswith('migrator.rules')]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
