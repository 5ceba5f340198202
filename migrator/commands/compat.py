"""`migrator compat`: each version's own test suite on the schemas the release puts it on, in a throwaway
PostgreSQL; `--prune-templates`: drop the cached blue templates (prune_templates)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from migrator.errors import UsageError

if TYPE_CHECKING:
    from migrator.compat.result import CompatResult


@dataclass
class CompatRequest:
    blue: str | None = None  # git ref of the running version (required)
    green: str | None = None  # git ref of the new version [default: the working tree]
    project_dir: str = "."
    scratch_url: str | None = None
    env: list[str] = field(default_factory=list)  # KEY=VALUE
    env_map: list[str] = field(default_factory=list)  # KEY=TEMPLATE
    pytest_args: list[str] = field(default_factory=list)  # each split like a shell
    evidence: str | None = None
    full: bool = False
    attribute: bool = True
    serial: bool = False
    # None: from [tool.migrator.compat] (CompatOptions' defaults else)
    suite: str | None = None
    python: str | None = None
    provider: str | None = None
    url_var: str | None = None
    url_form: str | None = None
    workers: str | None = None
    alembic_ini: str | None = None

    # the fields above that [tool.migrator.compat] fills when they are not given
    FROM_CONFIG = ("suite", "python", "provider", "url_var", "url_form", "alembic_ini", "workers")


@dataclass
class CompatOutcome:
    result: CompatResult

    @property
    def exit_code(self) -> int:
        return self.result.exit_code

    @property
    def complaint(self) -> str | None:
        return None if self.result.result == "pass" else f"compat {self.result.result}: {self.result.reason}"


def compat(request: CompatRequest) -> CompatOutcome:
    import shlex

    from migrator.compat import git
    from migrator.runner.appenv import parse_env_pairs
    from migrator.compat.errors import CompatError
    from migrator.compat.options import CompatOptions, apply_section
    from migrator.compat.run import compat as run_compat
    from migrator.config import load_config

    if request.blue is None:
        raise UsageError("compat: --blue REF is required (the git ref of the running version)")
    repo = git.repo_root(Path.cwd())
    # --project-dir as typed (from the current folder when it exists there, else from the repository
    # root), once: the app's pyproject.toml, the worktrees and the evidence all use this folder
    project_dir = git.project_subdir(repo, request.project_dir)
    app_dir = repo / project_dir
    try:
        extra_args = [arg for item in request.pytest_args for arg in shlex.split(item)]
    except ValueError as exc:
        raise CompatError(f"--pytest-args: {exc}") from None
    opts = CompatOptions(blue=request.blue, green=request.green, repo=repo, project_dir=project_dir,
                         evidence=Path(request.evidence) if request.evidence else None, full=request.full,
                         scratch_url=request.scratch_url, attribute=request.attribute,
                         env=parse_env_pairs(request.env), env_map=parse_env_pairs(request.env_map, "--env-map"))
    given = {key for key in request.FROM_CONFIG if getattr(request, key) is not None}
    for key in given:
        setattr(opts, key, getattr(request, key))
    config = load_config(app_dir / "pyproject.toml") if (app_dir / "pyproject.toml").is_file() else None
    section = config.compat.items() if config else {}
    apply_section(opts, section, given, base=app_dir)
    opts.pytest_args = list(opts.pytest_args) + extra_args
    if request.serial:
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
    return CompatOutcome(run_compat(opts, config))


@dataclass
class PruneRequest:
    scratch_url: str | None = None  # [default: $MIGRATOR_SCRATCH_URL]
    blue: str | None = None  # only the template of this commit
    project_dir: str = "."
    alembic_ini: str | None = None


@dataclass
class PruneResult:
    dropped: list[str]
    exit_code = 0
    complaint = None


def prune_templates(request: PruneRequest) -> PruneResult:
    """Drop the cached blue template databases on the url provider's server: every one, or with `blue` only the
    one of that commit (for this role, project folder and alembic config)."""
    import os

    from migrator.compat.options import SCRATCH_ENV as URL_ENV
    from migrator.compat.template import drop_templates
    from migrator.provision import get_provider

    url = request.scratch_url or os.environ.get(URL_ENV)
    if not url:
        raise UsageError(f"--prune-templates needs --scratch-url or ${URL_ENV}")
    alembic_ini = request.alembic_ini
    with get_provider("url", url=url).start() as server:
        if request.blue is None:
            return PruneResult(drop_templates(server))
        from migrator.compat import git
        from migrator.compat.template import current_user, template_name
        from migrator.config import load_project_config

        repo = git.repo_root(Path.cwd())
        subdir = git.project_subdir(repo, request.project_dir)
        sha = git.resolve_ref(repo, request.blue, role="blue")
        if alembic_ini is None:  # as compat itself names the template: the app's own config decides
            pyproject = repo / subdir / "pyproject.toml"
            config = load_project_config(pyproject)
            alembic_ini = config.compat.alembic_config or config.alembic_config
        return PruneResult(drop_templates(server, [template_name(sha, subdir, alembic_ini or "alembic.ini",
                                                                 current_user(server))]))
