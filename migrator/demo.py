"""The demo story: classify the demo app's release, then prove it with blue's tests, good and broken.

The demo app ships with migrator's source checkout: `alembic.ini`, `migrations/` (blue v1 = 0001-0002,
green v2 = 0003-0005 renaming users.name to full_name the zero-downtime way), `compat_tests/` (blue's
suite) and `demo/broken_green/` (an expand revision that breaks blue at runtime). `build_demo_repo`
lays them out as a git history: tags `blue`, `green` and `green-broken`.
"""

from __future__ import annotations

import functools
import os
import secrets
import shutil
import subprocess
from pathlib import Path

from migrator.errors import ConfigError

BLUE_REVISIONS = ("0001", "0002")
DEMO_PYPROJECT = """[project]
name = "demo-app"
version = "1.0"

[tool.migrator]
postgres_version = 15
"""


def demo_root() -> Path:
    """The folder holding the demo app: the current directory, else migrator's source checkout."""
    import migrator

    for root in (Path.cwd(), Path(migrator.__file__).resolve().parents[1]):
        if (root / "alembic.ini").is_file() and (root / "migrations").is_dir() and (root / "compat_tests").is_dir():
            return root
    raise ConfigError("the demo app (alembic.ini, migrations/, compat_tests/) ships with migrator's source "
                      "checkout: run `migrator demo` from it")


def _git(repo: Path, *args: str, email: str) -> None:
    # the identity in git's environment: it outranks `-c user.email` and whatever the caller's environment says
    identity = {"GIT_AUTHOR_NAME": "migrator demo", "GIT_COMMITTER_NAME": "migrator demo",
                "GIT_AUTHOR_EMAIL": email, "GIT_COMMITTER_EMAIL": email}
    subprocess.run(["git", "-c", "commit.gpgsign=false", *args], cwd=repo, check=True, capture_output=True,
                   env={**os.environ, **identity})


def build_demo_repo(dest: Path, root: Path | None = None) -> Path:
    """A git repository at `dest` with tags blue (v1), green (v2) and green-broken (v1 + broken expand).

    Its commits are its own (an author address with a random part): git's commit times are in seconds, so two
    demo repositories built in the same second (tests, benches, `migrator demo` on one server) would otherwise
    share blue's commit, and with it compat's cached template, which each may drop."""
    root = root or demo_root()
    email = f"demo-{secrets.token_hex(4)}@migrator.invalid"
    git = functools.partial(_git, email=email)
    versions = root / "migrations" / "versions"
    dest.mkdir(parents=True, exist_ok=True)
    git(dest, "init", "-q", "-b", "main")
    shutil.copy(root / "alembic.ini", dest / "alembic.ini")
    (dest / "pyproject.toml").write_text(DEMO_PYPROJECT, encoding="utf-8")
    (dest / "migrations" / "versions").mkdir(parents=True)
    for name in ("env.py", "script.py.mako"):
        shutil.copy(root / "migrations" / name, dest / "migrations" / name)
    shutil.copytree(root / "compat_tests", dest / "compat_tests",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    revisions = sorted(p for p in versions.glob("*.py") if p.name[:4].isdigit())
    for path in revisions:
        if path.name[:4] in BLUE_REVISIONS:
            shutil.copy(path, dest / "migrations" / "versions" / path.name)
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "-m", "blue v1: users and orders")
    git(dest, "tag", "blue")
    for path in revisions:
        if path.name[:4] not in BLUE_REVISIONS:
            shutil.copy(path, dest / "migrations" / "versions" / path.name)
    for path in (root / "demo" / "green_tests").glob("test_*.py"):  # green's suite reads full_name
        shutil.copy(path, dest / "compat_tests" / path.name)
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "-m", "green v2: rename users.name to full_name (expand, migrate, contract)")
    git(dest, "tag", "green")
    git(dest, "checkout", "-q", "-b", "broken", "blue")
    for path in (root / "demo" / "broken_green").glob("*.py"):
        shutil.copy(path, dest / "migrations" / "versions" / path.name)
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "-m", "green v2, broken: the expand trigger rejects blue's rows")
    git(dest, "tag", "green-broken")
    git(dest, "checkout", "-q", "main")
    return dest


def story_steps(provider: str = "embedded", database_url: str | None = None, config=None, workdir: Path | None = None):
    """The compat steps of the story, one at a time: (name, heading, run) where run() returns its CompatResult.
    The demo repository lives in a temporary folder until the last step has run."""
    import tempfile

    from migrator.compat.options import CompatOptions
    from migrator.compat.run import compat
    from migrator.config import Config

    config = config or Config()
    with tempfile.TemporaryDirectory(prefix="migrator-demo-", dir=workdir) as tmp:
        repo = build_demo_repo(Path(tmp) / "app")
        steps = (("green", "the good release (blue and green on the expanded schema, green on the contracted one; "
                           "--full)", True),
                 ("green-broken", "the broken release (its expand trigger rejects blue's rows)", False))
        for green, heading, full in steps:
            opts = CompatOptions(blue="blue", green=green, repo=repo, provider=provider, scratch_url=database_url,
                                 full=full)
            yield green, heading, (lambda opts=opts: compat(opts, config))


def run_story(provider: str = "embedded", database_url: str | None = None, workdir: Path | None = None):
    """Classify the release, then run compat on the good green and on the broken one.

    Returns (classification report, good CompatResult, broken CompatResult).
    """
    from migrator import api
    from migrator.config import Config

    config = Config()
    report = api.demo(config=config)
    results = [run() for _, _, run in story_steps(provider, database_url, config, workdir)]
    return report, results[0], results[1]


def story_exit_code(report, good, broken) -> int:
    """0 when the story goes as told: revisions as declared, good release passes, broken one is caught."""
    from migrator import api

    if api.demo_exit_code(report) != 0:
        return api.demo_exit_code(report)
    caught = broken.result == "fail" and any(c.failures for c in broken.cells)
    return 0 if good.result == "pass" and caught else 1
