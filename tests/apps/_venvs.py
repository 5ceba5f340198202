"""The fixture apps' own virtual environments, built once from their pinned requirements and cached.

One folder per app and content hash: `$MIGRATOR_TEST_VENVS` (default `~/.cache/migrator-test-venvs`) /
`<app>-<hash>`; the hash covers the requirement files (and migrator's pyproject.toml and checkout for the venv
with migrator, which starts as a copy of the app's own venv, then gets `pip install -e <checkout>`). A file
lock (fcntl) beside the folder makes parallel test processes wait for one build; a marker file written last
tells a finished venv from a half-built one, which is removed and rebuilt.
When pip finds the pins impossible to resolve (a deterministic answer for the same inputs), that answer
is kept beside the folder and raised again without another build.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

CACHE_ENV = "MIGRATOR_TEST_VENVS"
MARKER = ".fixture-venv-complete"
MIGRATOR_ROOT = Path(__file__).resolve().parents[2]


class VenvBuildError(RuntimeError):
    """pip could not build a fixture app's venv (the message carries pip's last lines)."""


def cache_root() -> Path:
    configured = os.environ.get(CACHE_ENV, "").strip()
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "migrator-test-venvs"


def venv_key(app: str, requirement_files: list[Path], with_migrator: bool) -> str:
    digest = hashlib.sha256()
    inputs = list(requirement_files) + ([MIGRATOR_ROOT / "pyproject.toml"] if with_migrator else [])
    for path in inputs:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    if with_migrator:
        # the editable install points at one checkout: another clone needs its own venv
        digest.update(str(MIGRATOR_ROOT.resolve()).encode())
    return f"{app}{'-migrator' if with_migrator else ''}-{digest.hexdigest()[:12]}"


def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def ensure_venv(app: str, requirement_files: list[Path], *, with_migrator: bool = False) -> Path:
    """The venv's interpreter; builds the venv first when it is missing or half-built."""
    root = cache_root()
    root.mkdir(parents=True, exist_ok=True)
    venv = root / venv_key(app, requirement_files, with_migrator)
    unresolvable = root / f"{venv.name}.unresolvable"
    if (venv / MARKER).is_file():
        return venv_python(venv)
    with open(root / f"{venv.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be building it: wait, then look again
        if unresolvable.is_file():  # pip said no for these very inputs: it will say no again
            raise VenvBuildError(unresolvable.read_text())
        if not (venv / MARKER).is_file():
            try:
                # the venv with migrator starts as a copy of the app's own (its pins installed once)
                plain = ensure_venv(app, requirement_files).parents[1] if with_migrator else None
                _build(venv, requirement_files, with_migrator, plain)
            except VenvBuildError as exc:
                if "ResolutionImpossible" in str(exc):
                    unresolvable.write_text(str(exc))
                    shutil.rmtree(venv, ignore_errors=True)
                raise
    return venv_python(venv)


def _build(venv: Path, requirement_files: list[Path], with_migrator: bool, plain: Path | None = None) -> None:
    if venv.exists():
        shutil.rmtree(venv)
    pip = [str(venv_python(venv)), "-m", "pip", "install", "-q", "--no-input", "--disable-pip-version-check"]
    if plain is not None:
        _copy_venv(plain, venv)
    else:
        _run([_base_python(), "-m", "venv", str(venv)], venv)
        requirements = [arg for path in requirement_files for arg in ("-r", str(path))]
        _run(pip + requirements, venv)
    if with_migrator:
        # the app's pins stay as they are: they are constraints for migrator's own dependencies
        constraints = [arg for path in requirement_files for arg in ("-c", str(path))]
        _run(pip + constraints + ["-e", str(MIGRATOR_ROOT)], venv)
    (venv / MARKER).write_text("complete\n")


def _copy_venv(source: Path, venv: Path) -> None:
    """A venv copied to another folder works once its scripts' #! lines name the new folder's interpreter."""
    shutil.copytree(source, venv, symlinks=True, ignore=shutil.ignore_patterns(MARKER))
    old, new = f"#!{source}/bin/".encode(), f"#!{venv}/bin/".encode()
    for script in (venv / "bin").iterdir():
        if script.is_file() and not script.is_symlink():
            text = script.read_bytes()
            if text.startswith(old):
                script.write_bytes(new + text[len(old):])
    config = venv / "pyvenv.cfg"
    config.write_text(config.read_text().replace(str(source), str(venv)))


def _base_python() -> str:
    """The interpreter to make venvs with: the base of the running one (a venv's python would do too)."""
    base = Path(sys.base_prefix) / "bin" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    return str(base) if base.exists() else sys.executable


def _run(command: list[str], venv: Path) -> None:
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        lines = [ln for ln in (done.stdout + done.stderr).splitlines() if ln.strip() and not ln.startswith("WARNING")]
        tail = "\n".join(lines[-15:])
        raise VenvBuildError(f"building {venv.name} failed: {' '.join(command[:6])} ...: exit {done.returncode}\n{tail}")
