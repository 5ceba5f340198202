"""The glue behind `migrator compat`: options from the command line and config, logging, rendering."""

from __future__ import annotations

import logging
import sys
from pathlib import Path


def run_compat_command(given: set[str], *, env: list[str], evidence: str | None, fmt: str, **values) -> int:
    from migrator.compat.dbenv import parse_env_pairs
    from migrator.compat.options import CompatOptions, apply_section, read_compat_section
    from migrator.compat.render import render_compat
    from migrator.compat.run import compat
    from migrator.config import load_config
    from migrator.errors import MigratorError

    _log_to_stderr()
    try:
        from migrator.compat import git

        repo = git.repo_root(Path.cwd())
        app_dir = repo / values["project_dir"]
        opts = CompatOptions(blue=values["blue"], green=values["green"], repo=repo,
                             project_dir=values["project_dir"], evidence=Path(evidence) if evidence else None,
                             matrix=values["matrix"], database_url=values["database_url"],
                             env=parse_env_pairs(env))
        for key in given:
            setattr(opts, key, values[key])
        apply_section(opts, read_compat_section(app_dir / "pyproject.toml"), given)
        config = load_config(app_dir / "pyproject.toml") if (app_dir / "pyproject.toml").is_file() else None
        result = compat(opts, config)
    except MigratorError as exc:
        sys.stderr.write(f"migrator: {exc}\n")
        return getattr(exc, "exit_code", 2)
    sys.stdout.write(render_compat(result, fmt))
    if result.result != "pass":
        sys.stderr.write(f"migrator: compat {result.result}: {result.reason}\n")
    return result.exit_code


def _log_to_stderr() -> None:
    root = logging.getLogger("migrator")
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("migrator: %(message)s"))
        root.addHandler(handler)
        root.setLevel(logging.INFO)
