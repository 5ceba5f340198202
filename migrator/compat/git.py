"""Git for `migrator compat`: find the repository, resolve blue/green refs, check commits out into
temporary worktrees that always go away.

    root = repo_root(".")                                   # any path inside the repository
    sub = project_subdir(root, "backend")                   # --project-dir, relative to the repo root
    blue = resolve_ref(root, "v1", "blue")                  # tag, branch, short/long sha, HEAD~1
    with worktree(root, blue, "blue", sub) as blue_dir:     # <tmp>/blue-<sha8>/backend
        ...
    # git worktree list is back to what it was, also after an exception, Ctrl-C or SystemExit

Green is the working tree by default: `working_tree_changes(root, sub)` lists its uncommitted
changes (evidence: `green_dirty`). Errors are CompatError (exit 2), one line each.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from migrator.compat.errors import CompatError

#: worktrees go to <tmp>/migrator-compat-XXXX/<role>-<sha8>
TEMP_PREFIX = "migrator-compat-"
_GIT_ENV = {"GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", "LANGUAGE": "C", "GIT_OPTIONAL_LOCKS": "0"}


def _git(repo: Path | str | None, *args: str, check: bool = True, detach: bool = False,
         timeout: float | None = 120) -> subprocess.CompletedProcess:
    """Run git; `detach` puts it in its own session so a Ctrl-C at the terminal cannot interrupt it
    (cleanup must finish)."""
    command = ["git"]
    if repo is not None:
        command += ["-C", str(repo)]
    command += ["-c", "core.hooksPath=/dev/null", *args]  # no post-checkout hooks of the project
    try:
        done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, **_GIT_ENV},
                              start_new_session=detach, timeout=timeout, stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        raise CompatError("git not found on PATH: `migrator compat` needs git") from None
    except subprocess.TimeoutExpired:
        raise CompatError(f"git {args[0]} timed out after {timeout:g}s") from None
    if check and done.returncode != 0:
        raise CompatError(f"git {' '.join(args)} failed: {_first_line(done.stderr)}")
    return done


def _first_line(text: str) -> str:
    lines = [ln.strip() for ln in (text or "").splitlines() if ln.strip()]
    for line in lines:  # git puts the reason on the `fatal:` / `error:` line
        if line.startswith(("fatal:", "error:")):
            return line.split(":", 1)[1].strip()
    return lines[0] if lines else "no output"


def repo_root(path: str | Path = ".") -> Path:
    """The top folder of the git repository that holds `path` (a folder or file inside it)."""
    here = Path(path).expanduser()
    if not here.exists():
        raise CompatError(f"{path}: no such file or directory")
    folder = here if here.is_dir() else here.parent
    done = _git(folder, "rev-parse", "--show-toplevel", check=False)
    if done.returncode != 0:
        if "not a git repository" in done.stderr:
            raise CompatError(f"{path} is not inside a git repository (compat checks out blue with git)")
        raise CompatError(f"git rev-parse in {path} failed: {_first_line(done.stderr)}")
    return Path(done.stdout.strip()).resolve()


def project_subdir(repo: Path | str, project_dir: str | Path | None) -> str:
    """--project-dir as a path relative to the repository root (`.` for the root itself).

    A relative `project_dir` is taken from the current directory (as the user typed it) when it
    exists there, else from the repository root.
    """
    root = Path(repo).resolve()
    if project_dir in (None, "", "."):
        candidate = Path.cwd()
        if not _is_within(candidate.resolve(), root):
            return "."
        project_dir = "."
    given = Path(project_dir).expanduser()
    if given.is_absolute():
        candidate = given
    elif (Path.cwd() / given).exists() and _is_within((Path.cwd() / given).resolve(), root):
        candidate = Path.cwd() / given
    else:
        candidate = root / given
    resolved = candidate.resolve()
    if not _is_within(resolved, root):
        raise CompatError(f"--project-dir {project_dir}: outside the git repository {root}")
    if not resolved.is_dir():
        raise CompatError(f"--project-dir {project_dir}: no such directory in {root}")
    return resolved.relative_to(root).as_posix() or "."


def _is_within(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def resolve_ref(repo: Path | str, ref: str, role: str = "blue") -> str:
    """The full sha of the commit `ref` names (tag, branch, short or long sha, HEAD~1, ...)."""
    text = (ref or "").strip()
    if not text:
        raise CompatError(f"{role} ref is empty")
    done = _git(repo, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{text}^{{commit}}", check=False)
    sha = done.stdout.strip()
    if done.returncode == 0 and len(sha) == 40:
        return sha
    probe = _git(repo, "rev-parse", "--verify", "--end-of-options", f"{text}^{{commit}}", check=False)
    reason = _first_line(probe.stderr)
    if "ambiguous" in reason:
        raise CompatError(f"{role} ref {text!r} is ambiguous in {repo}: {reason} (give more of the sha)")
    if "not a git repository" in reason:
        raise CompatError(f"{repo} is not inside a git repository")
    raise CompatError(f"{role} ref {text!r} not found in {repo} (not a tag, branch or commit there)")


def commit_has_path(repo: Path | str, sha: str, subdir: str) -> bool:
    if subdir in ("", "."):
        return True
    done = _git(repo, "cat-file", "-t", f"{sha}:{subdir}", check=False)
    return done.returncode == 0 and done.stdout.strip() == "tree"


def working_tree_changes(repo: Path | str, subdir: str = ".") -> list[str]:
    """Uncommitted changes under `subdir` (modified, staged, deleted, untracked; not ignored), as
    `git status --porcelain` lines. Empty when green's working tree equals HEAD there."""
    done = _git(repo, "status", "--porcelain", "--untracked-files=normal", "--", subdir or ".")
    return [line for line in done.stdout.splitlines() if line.strip()]


def current_branch(repo: Path | str) -> str:
    """The branch checked out in `repo` ("HEAD" when detached, "" when git cannot tell)."""
    return _git(repo, "rev-parse", "--abbrev-ref", "HEAD", check=False).stdout.strip()


def working_tree_is_dirty(repo: Path | str, subdir: str = ".") -> bool:
    return bool(working_tree_changes(repo, subdir))


is_dirty = working_tree_is_dirty


def worktree_paths(repo: Path | str) -> list[str]:
    """The worktrees git knows of (`git worktree list`), main one first."""
    done = _git(repo, "worktree", "list", "--porcelain")
    return [line[len("worktree "):] for line in done.stdout.splitlines() if line.startswith("worktree ")]


@contextmanager
def _no_interrupts() -> Iterator[None]:
    """Hold SIGINT/SIGTERM off while cleanup runs (main thread only); re-deliver them afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []
    saved = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            saved[sig] = signal.signal(sig, lambda signum, frame: pending.append(signum))
        except (ValueError, OSError):  # pragma: no cover - not in the main interpreter
            pass
    try:
        yield
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
        for signum in pending[:1]:
            os.kill(os.getpid(), signum)


@contextmanager
def worktree(repo: Path | str, sha: str, role: str = "blue", subdir: str = ".") -> Iterator[Path]:
    """Check `sha` out (detached) into a temporary worktree; yields the project folder inside it.

    On exit, whatever happened (exception, KeyboardInterrupt, SystemExit): `git worktree remove
    --force`, the temp folder removed, git's record of it pruned, so `git worktree list` is as before.
    """
    root = Path(repo).resolve()
    if not commit_has_path(root, sha, subdir):
        raise CompatError(f"{role} commit {sha[:8]} has no folder {subdir} (--project-dir)")
    parent = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX))
    path = parent / f"{role}-{sha[:8]}"
    try:
        done = _git(root, "worktree", "add", "--detach", "--force", str(path), sha, check=False, detach=True,
                    timeout=600)
        if done.returncode != 0:
            raise CompatError(f"cannot check out {role} commit {sha[:8]} into a worktree: {_first_line(done.stderr)}")
        project = path / subdir if subdir not in ("", ".") else path
        yield project
    finally:
        with _no_interrupts():
            remove_worktree(root, path, parent)


def remove_worktree(repo: Path, path: Path, parent: Path | None = None) -> None:
    """Remove a worktree and its temp folder; never raises (cleanup runs on the way out of errors).

    `git worktree remove --force`, then the folder, then git's record of it if still there: our own
    entry only (a global `git worktree prune` would also drop the user's worktrees that are merely
    unreachable right now); `git worktree prune` is the fallback when the entry cannot be found.
    """
    try:
        if path.exists():
            _git(repo, "worktree", "remove", "--force", "--force", str(path), check=False, detach=True, timeout=120)
    except CompatError:
        pass
    shutil.rmtree(parent or path, ignore_errors=True)
    try:
        known = worktree_paths(repo)
        if str(path) in known or str(path.resolve()) in known:
            if not _forget_worktree(repo, path):
                _git(repo, "worktree", "prune", check=False, detach=True, timeout=120)
    except CompatError:
        pass


def _forget_worktree(repo: Path, path: Path) -> bool:
    """Delete git's administrative folder for the (already removed) worktree at `path`."""
    done = _git(repo, "rev-parse", "--git-common-dir", check=False)
    if done.returncode != 0:
        return False
    common = Path(done.stdout.strip())
    common = common if common.is_absolute() else Path(repo) / common
    wanted = {str(path / ".git"), str(path.resolve() / ".git")}
    forgot = False
    for admin in (common / "worktrees").glob("*"):
        try:
            gitdir = (admin / "gitdir").read_text(encoding="utf-8").strip()
        except OSError:
            continue
        if gitdir in wanted:
            shutil.rmtree(admin, ignore_errors=True)
            forgot = not admin.exists()
    return forgot
