"""migrator.compat.git against real git repositories built in the test."""

from __future__ import annotations

import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from migrator.compat import git as cgit
from migrator.compat.errors import CompatError
from tests._compat import git, make_repo, revision, worktree_list

GREEN = {"0003": revision("0003", "0002", "ALTER TABLE users ADD COLUMN email text", phase="expand")}


@pytest.fixture
def repo(tmp_path):
    root, _ = make_repo(tmp_path / "repo", green=GREEN)
    before = worktree_list(root)
    yield root
    assert worktree_list(root) == before
    assert not list(Path(tempfile.gettempdir()).glob(f"{cgit.TEMP_PREFIX}*/*-{git(root, 'rev-parse', 'v1')[:8]}"))


def test_repo_root_from_inside(repo):
    (repo / "sub" / "deeper").mkdir(parents=True)
    assert cgit.repo_root(repo / "sub" / "deeper") == repo.resolve()
    assert cgit.repo_root(repo / "alembic.ini") == repo.resolve()
    assert cgit.repo_root(repo) == repo.resolve()


def test_repo_root_errors(tmp_path):
    with pytest.raises(CompatError, match="not inside a git repository") as info:
        cgit.repo_root(tmp_path)
    assert info.value.exit_code == 2
    with pytest.raises(CompatError, match="no such file or directory"):
        cgit.repo_root(tmp_path / "missing")


def test_resolve_ref_forms(repo):
    v1, v2 = git(repo, "rev-parse", "v1"), git(repo, "rev-parse", "v2")
    assert v1 != v2
    assert cgit.resolve_ref(repo, "v1", "blue") == v1
    assert cgit.resolve_ref(repo, "blue-branch", "blue") == v1
    assert cgit.resolve_ref(repo, "main", "green") == v2
    assert cgit.resolve_ref(repo, "HEAD", "green") == v2
    assert cgit.resolve_ref(repo, "HEAD~1", "blue") == v1
    assert cgit.resolve_ref(repo, v1[:7], "blue") == v1
    assert cgit.resolve_ref(repo, v1, "blue") == v1
    # an annotated tag resolves to its commit, not to the tag object
    subprocess.run(["git", "-C", str(repo), "-c", "user.name=T", "-c", "user.email=t@e", "tag", "-a", "-m", "x",
                    "annotated", "v1"], check=True)
    assert cgit.resolve_ref(repo, "annotated", "blue") == v1


@pytest.mark.parametrize("ref, role", [("v9", "blue"), ("no-such-branch", "green"), ("deadbeef", "blue"),
                                       ("HEAD~5", "blue"), ("--output=x", "blue")])
def test_resolve_ref_not_found(repo, ref, role):
    with pytest.raises(CompatError) as info:
        cgit.resolve_ref(repo, ref, role)
    assert str(info.value).startswith(f"{role} ref {ref!r} not found")
    assert info.value.exit_code == 2
    assert not (repo / "x").exists()


def test_resolve_ref_outside_repo(tmp_path):
    with pytest.raises(CompatError, match="not inside a git repository"):
        cgit.resolve_ref(tmp_path, "v1", "blue")


def test_worktree_checks_out_blue_and_goes_away(repo):
    v1 = cgit.resolve_ref(repo, "v1", "blue")
    with cgit.worktree(repo, v1, "blue") as tree:
        assert tree.name == f"blue-{v1[:8]}"
        assert (tree / "migrations" / "versions" / "0002_rev.py").is_file()
        assert not (tree / "migrations" / "versions" / "0003_rev.py").exists()  # green's revision
        assert (tree / "appinfo.py").read_text() == 'TREE = "blue"\n'
        assert git(tree, "rev-parse", "HEAD") == v1
        assert str(tree) in worktree_list(repo)
        assert git(repo, "symbolic-ref", "HEAD") == "refs/heads/main"  # the main checkout is untouched
    assert not tree.exists() and not tree.parent.exists()


def test_two_worktrees_of_the_same_commit(repo):
    v1 = cgit.resolve_ref(repo, "v1", "blue")
    with cgit.worktree(repo, v1, "blue") as a, cgit.worktree(repo, v1, "blue") as b:
        assert a != b and a.is_dir() and b.is_dir()


@pytest.mark.parametrize("exc", [RuntimeError("boom"), KeyboardInterrupt(), SystemExit(3)])
def test_worktree_cleanup_on_exception(repo, exc):
    v1 = cgit.resolve_ref(repo, "v1", "blue")
    with pytest.raises(type(exc)):
        with cgit.worktree(repo, v1, "blue") as tree:
            (tree / "scratch.txt").write_text("untracked files do not stop the removal")
            (tree / "alembic.ini").write_text("modified")
            raise exc
    assert not tree.parent.exists()


def test_worktree_cleanup_when_folder_vanished(repo):
    import shutil

    v1 = cgit.resolve_ref(repo, "v1", "blue")
    with cgit.worktree(repo, v1, "blue") as tree:
        shutil.rmtree(tree)
    assert not tree.parent.exists()


_CHILD = """
import sys, time
from migrator.compat import git
with git.worktree(sys.argv[1], sys.argv[2], "blue") as tree:
    print(tree, flush=True)
    time.sleep(60)
"""


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_worktree_cleanup_on_signal(repo, signum):
    """A real Ctrl-C (SIGINT) or SIGTERM to a process inside the block: the worktree is gone after."""
    v1 = cgit.resolve_ref(repo, "v1", "blue")
    code = _CHILD
    if signum == signal.SIGTERM:  # what the compat CLI does: SIGTERM becomes an exception (SignalExit)
        code = ("import signal, sys\n"
                "def stop(n, f): raise SystemExit(128 + n)\n"
                "signal.signal(signal.SIGTERM, stop)\n") + code
    proc = subprocess.Popen([sys.executable, "-c", code, str(repo), v1], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        tree = Path(proc.stdout.readline().strip())
        assert tree.is_dir()
        proc.send_signal(signum)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode != 0
    assert not tree.exists() and not tree.parent.exists()


def test_worktree_project_subdir(tmp_path):
    root, project = make_repo(tmp_path / "mono", green=GREEN, subdir="services/backend")
    before = worktree_list(root)
    v1 = cgit.resolve_ref(root, "v1", "blue")
    sub = cgit.project_subdir(root, project)
    assert sub == "services/backend"
    with cgit.worktree(root, v1, "blue", sub) as tree:
        assert tree.name == "backend" and tree.parent.name == "services"
        assert (tree / "alembic.ini").is_file()
        assert tree.parent.parent.name == f"blue-{v1[:8]}"
    assert worktree_list(root) == before
    with pytest.raises(CompatError, match=r"blue commit [0-9a-f]{8} has no folder services/frontend"):
        with cgit.worktree(root, v1, "blue", "services/frontend"):
            pass  # pragma: no cover
    assert worktree_list(root) == before


def test_project_subdir(tmp_path, monkeypatch):
    root, project = make_repo(tmp_path / "mono", subdir="backend")
    root = root.resolve()
    monkeypatch.chdir(root)
    assert cgit.project_subdir(root, "backend") == "backend"
    assert cgit.project_subdir(root, None) == "."
    assert cgit.project_subdir(root, ".") == "."
    monkeypatch.chdir(root / "backend")
    assert cgit.project_subdir(root, ".") == "backend"
    assert cgit.project_subdir(root, None) == "backend"
    assert cgit.project_subdir(root, "backend") == "backend"  # not backend/backend: taken from the root
    with pytest.raises(CompatError, match="outside the git repository"):
        cgit.project_subdir(root, tmp_path)
    with pytest.raises(CompatError, match="no such directory"):
        cgit.project_subdir(root, "frontend")


def test_working_tree_changes(tmp_path):
    root, project = make_repo(tmp_path / "mono", subdir="backend")
    (root / "docs").mkdir()
    assert cgit.working_tree_changes(root, "backend") == []
    assert not cgit.working_tree_is_dirty(root, ".")
    (root / "README").write_text("changed outside the project\n")
    assert not cgit.working_tree_is_dirty(root, "backend")
    assert cgit.working_tree_is_dirty(root, ".")
    (project / "migrations" / "versions" / "0003_rev.py").write_text(revision("0003", "0002"))  # untracked
    changes = cgit.working_tree_changes(root, "backend")
    assert changes == ["?? backend/migrations/versions/0003_rev.py"]
    (project / "migrations" / "versions" / "0003_rev.py").unlink()
    (project / "alembic.ini").write_text("modified")
    assert cgit.working_tree_changes(root, "backend") == [" M backend/alembic.ini"]
    git(root, "checkout", "--", "backend/alembic.ini")
    (project / ".gitignore").write_text("*.log\n")
    git(root, "add", "backend/.gitignore")
    assert cgit.working_tree_changes(root, "backend") == ["A  backend/.gitignore"]
    git(root, "commit", "-q", "-m", "ignore logs")
    (project / "debug.log").write_text("ignored files are not changes")
    assert not cgit.working_tree_is_dirty(root, "backend")


def test_no_hooks_run_on_checkout(repo):
    """A post-checkout hook of the project must not run in the temporary worktree."""
    hook = repo / ".git" / "hooks" / "post-checkout"
    marker = repo.parent / "hook-ran"
    hook.write_text(f"#!/bin/sh\ntouch {marker}\n")
    hook.chmod(0o755)
    v1 = cgit.resolve_ref(repo, "v1", "blue")
    start = time.perf_counter()
    with cgit.worktree(repo, v1, "blue"):
        pass
    assert not marker.exists()
    assert time.perf_counter() - start < 5


def test_cleanup_leaves_other_worktrees_alone(repo):
    """A worktree of the user's that is unreachable right now (folder gone, entry not pruned) stays listed."""
    import shutil

    user_tree = repo.parent / "user-tree"
    git(repo, "worktree", "add", "--detach", str(user_tree), "v1")
    shutil.rmtree(user_tree)
    listed = worktree_list(repo)
    assert str(user_tree) in listed
    v1 = cgit.resolve_ref(repo, "v1", "blue")
    with cgit.worktree(repo, v1, "blue") as tree:
        shutil.rmtree(tree)  # ours vanished too: its entry must go, the user's must stay
    assert worktree_list(repo) == listed
    git(repo, "worktree", "prune")
