"""The glue behind `migrator compat`: options from the command line and config, logging, rendering."""

from __future__ import annotations

import logging
import signal
import sys
from pathlib import Path


def run_compat_command(given: set[str], *, env: list[str], env_map: list[str], pytest_args: list[str],
                       evidence: str | None, fmt: str, **values) -> int:
    import shlex

    from migrator.compat.dbenv import parse_env_pairs
    from migrator.compat.options import CompatOptions, apply_section
    from migrator.compat.render import render_compat
    from migrator.compat.run import compat
    from migrator.config import load_config
    from migrator.compat.errors import CompatError
    from migrator.errors import MigratorError
    from migrator.provision import SignalExit

    log_to_stderr()
    try:
        from migrator.compat import git

        repo = git.repo_root(Path.cwd())
        # --project-dir as typed (from the current folder when it exists there, else from the repository
        # root), once: the app's pyproject.toml, the worktrees and the evidence all use this folder
        project_dir = git.project_subdir(repo, values["project_dir"])
        app_dir = repo / project_dir
        try:
            extra_args = [arg for item in pytest_args for arg in shlex.split(item)]
        except ValueError as exc:
            raise CompatError(f"--pytest-args: {exc}") from None
        opts = CompatOptions(blue=values["blue"], green=values["green"], repo=repo,
                             project_dir=project_dir, evidence=Path(evidence) if evidence else None,
                             full=values["full"], scratch_url=values["scratch_url"], attribute=values["attribute"],
                             env=parse_env_pairs(env), env_map=parse_env_pairs(env_map, "--env-map"))
        serial = values.pop("serial", False)
        for key in given:
            setattr(opts, key, values[key])
        config = load_config(app_dir / "pyproject.toml") if (app_dir / "pyproject.toml").is_file() else None
        section = config.compat.items() if config else {}
        apply_section(opts, section, given, base=app_dir)
        opts.pytest_args = list(opts.pytest_args) + extra_args
        if serial:
            opts.parallel = False
        if "alembic_ini" not in given and "alembic_config" not in section and config and config.alembic_config:
            opts.alembic_ini = config.alembic_config  # [tool.migrator] alembic_config, as classify and lint use it
        if opts.evidence is not None:
            from migrator.evidence import signing_key

            # a key too short to use stops the check before it runs
            if signing_key(opts.evidence_key_env) is None and opts.evidence_key_env:
                logging.getLogger("migrator.compat").warning(
                    "evidence_key_env names $%s, which is not set: the evidence will not be signed",
                    opts.evidence_key_env)
        result = compat(opts, config)
    except MigratorError as exc:
        sys.stderr.write(f"migrator: {exc}\n")
        return getattr(exc, "exit_code", 2)
    except KeyboardInterrupt:  # compat() has cleaned up on its way out; typer would exit 130 silently
        sys.stderr.write("migrator: interrupted\n")
        return 130
    except SignalExit as exc:  # SIGTERM, turned into an exception so that everything was cleaned up
        sys.stderr.write(f"migrator: terminated by {signal.Signals(exc.signum).name}\n")
        return 128 + exc.signum
    sys.stdout.write(render_compat(result, fmt))
    if result.result != "pass":
        sys.stderr.write(f"migrator: compat {result.result}: {result.reason}\n")
    return result.exit_code


def prune_templates_command(database_url: str | None, blue: str | None = None, project_dir: str = ".",
                            alembic_ini: str | None = None) -> int:
    """Drop the cached blue template databases on the url provider's server: every one, or with `blue` only the
    one of that commit (for this role, project folder and alembic config)."""
    import os

    from migrator.compat.options import SCRATCH_ENV as URL_ENV
    from migrator.compat.template import drop_templates
    from migrator.errors import MigratorError
    from migrator.provision import get_provider

    url = database_url or os.environ.get(URL_ENV)
    if not url:
        sys.stderr.write(f"migrator: --prune-templates needs --scratch-url or ${URL_ENV}\n")
        return 2
    try:
        with get_provider("url", url=url).start() as server:
            if blue is None:
                names = drop_templates(server)
            else:
                from migrator.compat import git
                from migrator.compat.template import current_user, template_name

                from migrator.config import load_project_config

                repo = git.repo_root(Path.cwd())
                subdir = git.project_subdir(repo, project_dir)
                sha = git.resolve_ref(repo, blue, role="blue")
                if alembic_ini is None:  # as compat itself names the template: the app's own config decides
                    pyproject = repo / subdir / "pyproject.toml"
                    config = load_project_config(pyproject)
                    alembic_ini = config.compat.alembic_config or config.alembic_config
                names = drop_templates(server, [template_name(sha, subdir, alembic_ini or "alembic.ini",
                                                              current_user(server))])
    except MigratorError as exc:
        sys.stderr.write(f"migrator: {exc}\n")
        return 2
    sys.stdout.write("".join(f"dropped {n}\n" for n in names) or "no cached templates\n")
    return 0


def log_to_stderr() -> None:
    root = logging.getLogger("migrator")
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("migrator: %(message)s"))
        root.addHandler(handler)
        root.setLevel(logging.INFO)
