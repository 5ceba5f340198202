"""Builds a fixture app's git repository from its source overlays: fixed author and dates, annotated tags."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

from tests.apps._model import AppSpec, Version

SOURCES = Path(__file__).resolve().parent
DELETE_LIST = ".fixture-delete"
_SKIP_DIRS = {"__pycache__", ".pytest_cache", ".venv", "venv"}
_FIRST_COMMIT = datetime(2024, 3, 4, 9, 30, tzinfo=timezone.utc)


def overlay_dir(app: str, overlay: str) -> Path:
    return SOURCES / app / overlay


def version_trees(spec: AppSpec) -> dict[str, dict[str, Path]]:
    """Each version's tree: relative path -> source file."""
    trees: dict[str, dict[str, Path]] = {}
    last_on_branch: dict[str, str] = {}
    for version in spec.versions:
        base = version.base or last_on_branch.get(version.branch)
        tree = dict(trees[base]) if base else {}
        for overlay in version.overlays:
            _apply_overlay(tree, overlay_dir(spec.name, overlay))
        trees[version.tag] = tree
        last_on_branch[version.branch] = version.tag
    return trees


def _apply_overlay(tree: dict[str, Path], folder: Path) -> None:
    if not folder.is_dir():
        raise FileNotFoundError(f"fixture overlay {folder} is missing")
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if path.is_dir() or _SKIP_DIRS.intersection(rel.parts) or path.suffix == ".pyc":
            continue
        if rel.as_posix() == DELETE_LIST:
            for line in path.read_text().splitlines():
                if line.strip() and not line.startswith("#"):
                    removed = [k for k in tree if k == line.strip() or k.startswith(line.strip().rstrip("/") + "/")]
                    if not removed:
                        raise ValueError(f"{path}: nothing to delete at {line.strip()}")
                    for key in removed:
                        del tree[key]
            continue
        tree[rel.as_posix()] = path


def git_env() -> dict[str, str]:
    """git without the user's or the machine's configuration (no signing, hooks or templates)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1", GIT_AUTHOR_NAME="Dana Developer",
               GIT_AUTHOR_EMAIL="dana@example.com", GIT_COMMITTER_NAME="Dana Developer",
               GIT_COMMITTER_EMAIL="dana@example.com")
    return env


def git(repo: Path, *args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, env=env or git_env())
    if done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed in {repo}: {done.stderr.strip()}")
    return done.stdout


def build_repo(spec: AppSpec, repo: Path) -> None:
    """A fresh repository at `repo` holding the app's history; left on main at its last commit."""
    if repo.exists() and any(repo.iterdir()):
        raise FileExistsError(f"{repo} exists and is not empty")
    repo.mkdir(parents=True, exist_ok=True)
    trees = version_trees(spec)
    git(repo, "init", "-q", "-b", "main")
    branch = "main"
    for n, version in enumerate(spec.versions):
        if version.branch != branch:
            start = version.base or "main"
            git(repo, "checkout", "-q", "-B", version.branch, start)
            branch = version.branch
        _write_tree(repo, trees[version.tag])
        _commit(repo, version, _FIRST_COMMIT + timedelta(days=7 * n, minutes=n))
    if branch != "main":
        git(repo, "checkout", "-q", "main")


def _write_tree(repo: Path, tree: dict[str, Path]) -> None:
    for child in repo.iterdir():
        if child.name == ".git":
            continue
        shutil.rmtree(child) if child.is_dir() else child.unlink()
    for rel, source in tree.items():
        target = repo / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)


def _commit(repo: Path, version: Version, when: datetime) -> None:
    env = git_env()
    env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = when.isoformat()
    git(repo, "add", "-A", env=env)
    git(repo, "commit", "-q", "--no-verify", "-m", version.message, env=env)
    git(repo, "tag", "-a", version.tag, "-m", f"Release {version.tag}", env=env)
