"""Fixture apps with the awkward traits of real projects, for tests of `migrator compat` and the release
commands. See tests/apps/README.md for each app, its traits and each release's expected answer.

    from tests.apps import build_app, app_python, FixtureApp
    app = build_app("fastapi", tmp_path)          # a fresh git repo with the app's release history
    app.repo, app.project_dir, app.releases
    app_python("fastapi")                         # the app's own venv interpreter (without migrator)
    app_python("fastapi", with_migrator=True)     # the same pins + migrator (editable, this checkout)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tests.apps._builder import build_repo, git, overlay_dir
from tests.apps._catalog import APPS
from tests.apps._model import AppSpec, Release, Version
from tests.apps._venvs import VenvBuildError, ensure_venv

__all__ = ["APPS", "AppSpec", "FixtureApp", "Release", "Version", "VenvBuildError", "app_python", "build_app"]


@dataclass(frozen=True)
class FixtureApp:
    name: str
    repo: Path  # the repository root (git, with tags), checked out at the last tag on main
    project_dir: str  # where alembic.ini and pyproject.toml live, relative to repo ("." or "backend")
    releases: list[Release]
    spec: AppSpec

    @property
    def project(self) -> Path:
        """The project folder of the working tree."""
        return self.repo / self.project_dir

    def release(self, name: str) -> Release:
        for release in self.releases:
            if release.name == name:
                return release
        raise KeyError(f"{self.name} has no release {name!r}: {[r.name for r in self.releases]}")

    def checkout(self, ref: str, dest: Path) -> Path:
        """A detached `git worktree` of `ref` at `dest`; returns its project folder."""
        git(self.repo, "worktree", "add", "-q", "--detach", str(dest), ref)
        return dest / self.project_dir


def build_app(name: str, dest: Path) -> FixtureApp:
    """Build the app's repository in `dest/<name>` (which must not exist yet or be empty)."""
    spec = _spec(name)
    repo = Path(dest) / name
    build_repo(spec, repo)
    return FixtureApp(name, repo, spec.project_dir, list(spec.releases), spec)


def app_python(name: str, *, with_migrator: bool = False) -> Path:
    """The interpreter of the app's cached venv (built on first use from its pinned requirements)."""
    spec = _spec(name)
    first = spec.versions[0].overlays[0]
    requirements = [overlay_dir(name, first) / rel for rel in spec.requirements]
    return ensure_venv(name, requirements, with_migrator=with_migrator)


def _spec(name: str) -> AppSpec:
    try:
        return APPS[name]
    except KeyError:
        raise KeyError(f"no fixture app {name!r}: {sorted(APPS)}") from None
