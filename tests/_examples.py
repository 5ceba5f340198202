"""The docs' example plug-in packages (docs/examples/acme-*), installed with pip like any plug-in."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path


def pip_install_example(package: Path, tmp: Path) -> tuple[Path | None, list[str]]:
    """`pip install --target SITE <a copy of package>`: offline with the venv's setuptools when it can build wheels,
    else with pip's build isolation (which fetches setuptools, as `pip install -e .` does in CI). A copy, because
    setuptools builds in the source folder (build/, *.egg-info) and two test processes may build at once.
    Returns (SITE, []) or (None, pip's errors)."""
    source = tmp / package.name
    shutil.copytree(package, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    site = tmp / "site"
    base = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--disable-pip-version-check",
            "--target", str(site)]
    errors = []
    for command in (base + ["--no-build-isolation", "--no-index", str(source)], base + [str(source)]):
        proc = subprocess.run(command, capture_output=True, text=True, timeout=180, cwd=tmp)
        if proc.returncode == 0:
            return site, []
        errors.append(proc.stderr.strip()[-800:])
    return None, errors
