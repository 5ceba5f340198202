"""migrator.compat.apply: heads, upgrade on the real PostgreSQL, and green's plan, on alembic projects
in temporary git repositories (tests/_compat.py)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from migrator.compat import apply as capply
from migrator.compat import git as cgit
from migrator.compat.errors import CompatError, CompatRefused, RevisionFailed
from tests._compat import dbs  # noqa: F401  (fixture)
from tests._compat import columns, make_repo, revision, version, worktree_list, write_revisions

EXPAND = revision("0003", "0002", "ALTER TABLE users ADD COLUMN email text", phase="expand")
MIGRATE = revision("0004", "0003", "UPDATE users SET email = name || '@example.com' WHERE email IS NULL",
                   phase="migrate")
CONTRACT = revision("0005", "0004", "ALTER TABLE users DROP COLUMN name", phase="contract")
GOOD = {"0003": EXPAND, "0004": MIGRATE, "0005": CONTRACT}


def _plan(tmp_path, green, **kwargs):
    _, project = make_repo(tmp_path / "repo", green=green)
    return capply.plan_green(project, "alembic.ini", ["0002"], **{"strict": False, **kwargs})


# --- heads -----------------------------------------------------------------------------------------------


def test_heads_offline(tmp_path):
    root, project = make_repo(tmp_path / "repo", green=GOOD)
    assert capply.alembic_heads(project) == ["0005"]
    assert capply.alembic_head(project, "alembic.ini", "green") == "0005"
    with cgit.worktree(root, cgit.resolve_ref(root, "v1", "blue"), "blue") as blue:
        assert capply.alembic_heads(blue, blue / "alembic.ini") == ["0002"]
    assert "appinfo" not in sys.modules


def test_empty_history(tmp_path):
    _, project = make_repo(tmp_path / "repo", blue={})
    assert capply.alembic_heads(project) == []
    assert capply.alembic_head(project, "alembic.ini", "blue") is None


def test_multiple_heads(tmp_path):
    branch = revision("0003b", "0002", "ALTER TABLE users ADD COLUMN nick text", phase="expand")
    _, project = make_repo(tmp_path / "repo", green={"0003": EXPAND, "0003b": branch})
    assert capply.alembic_heads(project) == ["0003", "0003b"]
    with pytest.raises(CompatError, match=r"green has multiple alembic heads \(0003, 0003b\)") as info:
        capply.alembic_head(project, "alembic.ini", "green")
    assert info.value.exit_code == 2
    with pytest.raises(CompatError, match=r"green has multiple alembic heads \(0003, 0003b\)"):
        capply.plan_green(project, "alembic.ini", ["0002"])
    with pytest.raises(CompatError, match=r"blue has multiple alembic heads \(0003, 0003b\)"):
        capply.plan_green(project, "alembic.ini", ["0003", "0003b"])


def test_heads_bad_project(tmp_path):
    with pytest.raises(CompatError, match="blue: alembic config alembic.ini not found"):
        capply.alembic_heads(tmp_path, role="blue")
    _, project = make_repo(tmp_path / "repo", green={"0003": "this is not python("})
    with pytest.raises(CompatError, match="green: .*cannot load the revisions") as info:
        capply.alembic_heads(project, role="green")
    assert info.value.exit_code == 2


# --- upgrade ---------------------------------------------------------------------------------------------


def test_upgrade_blue_then_green(tmp_path, dbs, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    root, green = make_repo(tmp_path / "repo", green=GOOD)
    name = dbs.create()
    url = dbs.url(name)
    with cgit.worktree(root, cgit.resolve_ref(root, "v1", "blue"), "blue") as blue:
        head = capply.alembic_head(blue, "alembic.ini", "blue")
        done = capply.upgrade(blue, "alembic.ini", url, head, {"COMPAT_TEST_EXPECT_TREE": "blue"}, role="blue")
    assert done.applied == ["0001", "0002"] and done.targets == ["0002"]
    assert version(dbs, name) == ["0002"]
    plan = capply.plan_green(green, "alembic.ini", [head]).check()
    assert plan.apply == [("0003", "expand"), ("0004", "migrate")]
    assert plan.held_back == [("0005", "contract")]
    assert plan.targets == ["0004"]
    done = capply.apply_plan(green, "alembic.ini", url, plan, {"COMPAT_TEST_EXPECT_TREE": "green"})
    assert done.applied == ["0003", "0004"]
    assert version(dbs, name) == ["0004"]
    assert columns(dbs, name, "users") == ["id", "name", "email"]  # the contract revision did not run


def test_url_reaches_sqlalchemy_url_not_argv(tmp_path, dbs, monkeypatch):
    """With no DATABASE_URL, env.py falls back to sqlalchemy.url: migrator's URL (the ini points at port 1).
    The URL is never on a command line; a password (even with %) never shows in output or errors."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("MIGRATOR_FORK_SERVER", "0")  # every child started here: the spy sees its command line
    _, project = make_repo(tmp_path / "repo")
    name = dbs.create()
    url = dbs.url(name, password="s3cr%40t%25pw")  # trust auth: any password is accepted
    seen = []
    real = subprocess.Popen

    class Spy(real):
        def __init__(self, args, *a, **kw):
            seen.append(list(args))
            super().__init__(args, *a, **kw)

    monkeypatch.setattr(subprocess, "Popen", Spy)
    done = capply.upgrade(project, "alembic.ini", url, "heads", {})
    assert done.applied == ["0001", "0002"]
    assert seen and all(url not in arg and "s3cr" not in arg for args in seen for arg in args)
    # a failure message that would quote the URL shows *** instead
    write_revisions(project, {"0003": revision("0003", "0002", "SELECT 1", code=f"    raise ValueError({url!r})")})
    with pytest.raises(RevisionFailed) as info:
        capply.upgrade(project, "alembic.ini", url, "heads", {})
    assert "s3cr" not in str(info.value) and "***" in str(info.value)


def test_revision_with_bad_sql(tmp_path, dbs):
    bad = revision("0004", "0003", "ALTER TABLE users ADD COLUMN ok1 text", "SELEC broken FROM users")
    _, project = make_repo(tmp_path / "repo", green={"0003": EXPAND, "0004": bad})
    name = dbs.create()
    with pytest.raises(RevisionFailed) as info:
        capply.upgrade(project, "alembic.ini", dbs.url(name), "heads", role="green")
    exc = info.value
    assert exc.exit_code == 1
    assert exc.revision == "0004"
    assert exc.reason.startswith('SyntaxError: syntax error at or near "SELEC"')
    assert exc.statement == "SELEC broken FROM users"
    assert str(exc).startswith("green revision 0004 failed to apply: SyntaxError")
    assert "\n" not in str(exc)
    assert dbs.query(name, "SELECT to_regclass('alembic_version')") == [(None,)]  # one transaction: rolled back


def test_revision_failure_per_migration_transaction(tmp_path, dbs):
    """transaction_per_migration: the revisions before the bad one stay applied; the bad one is named."""
    bad = revision("0004", "0003", "INSERT INTO nowhere VALUES (1)")
    _, project = make_repo(tmp_path / "repo", green={"0003": EXPAND, "0004": bad})
    name = dbs.create()
    with pytest.raises(RevisionFailed, match=r"revision 0004 failed to apply: UndefinedTable: relation \"nowhere\""):
        capply.upgrade(project, "alembic.ini", dbs.url(name), "heads", {"COMPAT_TEST_PER_MIGRATION": "1"})
    assert version(dbs, name) == ["0003"]


def test_python_error_in_revision(tmp_path, dbs):
    bad = revision("0003", "0002", code="    raise KeyError('missing_setting')")
    _, project = make_repo(tmp_path / "repo", green={"0003": bad})
    name = dbs.create()
    with pytest.raises(RevisionFailed, match=r"revision 0003 failed to apply: KeyError: 'missing_setting'"):
        capply.upgrade(project, "alembic.ini", dbs.url(name), "heads")


def test_env_py_failure_is_infrastructure(tmp_path, dbs):
    _, project = make_repo(tmp_path / "repo")
    name = dbs.create()
    with pytest.raises(CompatError) as info:
        capply.upgrade(project, "alembic.ini", dbs.url(name), "heads", {"COMPAT_TEST_ENV_FAIL": "1"}, role="blue")
    assert not isinstance(info.value, RevisionFailed) and info.value.exit_code == 2
    assert str(info.value) == ("alembic upgrade of the blue revisions failed before any revision ran: "
                               "RuntimeError: env.py refuses to start")


def test_unreachable_database(tmp_path):
    _, project = make_repo(tmp_path / "repo")
    url = "postgresql+psycopg://postgres:hunter2@127.0.0.1:1/nowhere"
    with pytest.raises(CompatError) as info:
        capply.upgrade(project, "alembic.ini", url, "heads")
    assert not isinstance(info.value, RevisionFailed) and info.value.exit_code == 2
    assert "before any revision ran: OperationalError" in str(info.value)
    assert "hunter2" not in str(info.value)


def test_upgrade_timeout(tmp_path, dbs):
    slow = revision("0003", "0002", "SELECT pg_sleep(30)")
    _, project = make_repo(tmp_path / "repo", green={"0003": slow})
    name = dbs.create()
    with pytest.raises(CompatError, match="timed out after 1.5s"):
        capply.upgrade(project, "alembic.ini", dbs.url(name), "heads", timeout=1.5)


def test_inherited_database_url_is_overridden(tmp_path, dbs, monkeypatch):
    """The caller's DATABASE_URL (maybe a real database) never reaches env.py: env=None sets it to the
    throwaway database."""
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:1/production")
    _, project = make_repo(tmp_path / "repo")
    name = dbs.create()
    assert capply.upgrade(project, "alembic.ini", dbs.url(name), "heads").applied == ["0001", "0002"]


def test_project_in_subdirectory(tmp_path, dbs, monkeypatch):
    monkeypatch.chdir(tmp_path)
    root, green = make_repo(tmp_path / "mono", green=GOOD, subdir="backend")
    before = worktree_list(root)
    sub = cgit.project_subdir(root, "mono/backend")
    name = dbs.create()
    url = dbs.url(name)
    with cgit.worktree(root, cgit.resolve_ref(root, "HEAD~1", "blue"), "blue", sub) as blue:
        heads = capply.alembic_heads(blue, "alembic.ini", role="blue")
        capply.upgrade(blue, "alembic.ini", url, heads, {"COMPAT_TEST_EXPECT_TREE": "blue"}, role="blue")
    plan = capply.plan_green(root / sub, "alembic.ini", heads).check()
    capply.apply_plan(root / sub, "alembic.ini", url, plan, {"COMPAT_TEST_EXPECT_TREE": "green"})
    assert version(dbs, name) == ["0004"]
    assert worktree_list(root) == before
    assert "appinfo" not in sys.modules


def test_blue_and_green_run_in_their_own_children(tmp_path, dbs):
    """blue and green both import their own `appinfo` (env.py fails when it gets the other tree's); none of it
    reaches migrator's process."""
    root, green = make_repo(tmp_path / "repo", green=GOOD)
    path_before, cwd_before = list(sys.path), __import__("os").getcwd()
    name = dbs.create()
    url = dbs.url(name)
    with cgit.worktree(root, cgit.resolve_ref(root, "v1", "blue"), "blue") as blue:
        heads = capply.alembic_heads(blue)
        done = capply.upgrade(blue, "alembic.ini", url, heads, {"COMPAT_TEST_EXPECT_TREE": "blue",
                                                                 "DATABASE_URL": url})
        assert done.applied == ["0001", "0002"]
    plan = capply.plan_green(green, "alembic.ini", heads)
    done = capply.apply_plan(green, "alembic.ini", url, plan, {"COMPAT_TEST_EXPECT_TREE": "green", "DATABASE_URL": url})
    assert done.applied == ["0003", "0004"]
    assert "appinfo" not in sys.modules
    assert sys.path == path_before and __import__("os").getcwd() == cwd_before
    assert "COMPAT_TEST_EXPECT_TREE" not in __import__("os").environ


# --- planning --------------------------------------------------------------------------------------------


def test_plan_expand_migrate_contract(tmp_path):
    plan = _plan(tmp_path, GOOD)
    assert plan.stop is None and plan.check() is plan
    assert (plan.blue_head, plan.green_head) == ("0002", "0005")
    assert plan.apply == [("0003", "expand"), ("0004", "migrate")]
    assert plan.held_back == [("0005", "contract")]
    data = plan.to_dict()
    assert data["applied"] == {"none": [], "expand": ["0003"], "migrate": ["0004"], "contract": []}
    assert data["held_back"] == [{"revision": "0005", "phase": "contract"}]
    assert [r["action"] for r in data["revisions"]] == ["apply", "apply", "hold"]


def test_plan_classified_phase_when_undeclared(tmp_path):
    green = {
        "0003": revision("0003", "0002", "CREATE INDEX CONCURRENTLY users_name ON users (name)",
                         code="    with op.get_context().autocommit_block():\n"
                              "        op.execute('CREATE INDEX CONCURRENTLY users_name ON users (name)')"),
        "0004": revision("0004", "0003", "SELECT 1"),  # no schema effect
        "0005": revision("0005", "0004", "ALTER TABLE users ALTER COLUMN name DROP NOT NULL"),
        "0006": revision("0006", "0005", "ALTER TABLE orders DROP COLUMN user_id"),
        "0007": revision("0007", "0006", "SELECT 2"),  # none after a contract: held back, no stop
    }
    plan = _plan(tmp_path, green)
    assert plan.stop is None
    assert plan.apply == [("0003", "expand"), ("0004", "none"), ("0005", "expand")]
    assert plan.held_back == [("0006", "contract"), ("0007", "none")]
    assert plan.targets == ["0005"]


def test_plan_declared_contract_is_held_back(tmp_path):
    """A revision declared contract that classifies expand is held back: the declaration wins."""
    green = {"0003": revision("0003", "0002", "ALTER TABLE users ADD COLUMN email text", phase="contract"),
             "0004": revision("0004", "0003", "SELECT 1")}
    plan = _plan(tmp_path, green)
    assert plan.apply == [] and plan.targets == []
    assert plan.held_back == [("0003", "contract"), ("0004", "none")]


def test_plan_contract_before_expand_stops(tmp_path):
    green = {"0003": revision("0003", "0002", "ALTER TABLE users DROP COLUMN name", phase="contract"),
             "0004": revision("0004", "0003", "ALTER TABLE users ADD COLUMN email text", phase="expand")}
    plan = _plan(tmp_path, green)
    assert plan.stop[0] == "0004"
    assert plan.stop[1].startswith("contract revision 0003 comes before expand revision 0004: reorder")
    assert plan.apply == []
    with pytest.raises(CompatRefused) as info:
        plan.check()
    assert info.value.exit_code == 1 and info.value.revision == "0004"
    assert "contract revision 0003 comes before expand revision 0004: reorder" in str(info.value)
    with pytest.raises(CompatRefused, match="contract revision 0003 comes before expand revision 0004") as info:
        capply.plan_green(tmp_path / "repo", "alembic.ini", ["0002"])  # strict by default
    assert info.value.plan.stop == plan.stop and info.value.plan.apply == []


def test_plan_undeclared_contract_before_migrate_stops(tmp_path):
    green = {"0003": EXPAND,
             "0004": revision("0004", "0003", "ALTER TABLE orders DROP COLUMN user_id"),
             "0005": revision("0005", "0004", "UPDATE users SET email = 'x'")}
    plan = _plan(tmp_path, green)
    assert plan.stop == ("0005", plan.stop[1])
    assert plan.stop[1].startswith("contract revision 0004 comes before migrate revision 0005")


def test_plan_declared_expand_classifies_contract(tmp_path):
    green = {"0003": EXPAND,
             "0004": revision("0004", "0003", "ALTER TABLE users DROP COLUMN name", phase="expand"),
             "0005": CONTRACT}
    plan = _plan(tmp_path, green)
    rev, reason = plan.stop
    assert rev == "0004"
    assert reason.startswith("revision 0004 is declared expand but classifies contract: "
                             "C317 drops column name of users")
    assert plan.apply == []
    with pytest.raises(CompatRefused, match="revision 0004 is declared expand but classifies contract: C317"):
        capply.apply_plan(tmp_path, "alembic.ini", "postgresql://unused", plan)


def test_plan_declared_migrate_mixed_with_contract(tmp_path):
    green = {"0003": revision("0003", "0002", "ALTER TABLE users ADD COLUMN email text",
                              "ALTER TABLE orders DROP COLUMN user_id", phase="migrate")}
    plan = _plan(tmp_path, green)
    assert plan.stop[0] == "0003"
    assert plan.stop[1].startswith("revision 0003 is declared migrate but classifies contract (mixed: expand and "
                                   "contract statements): C317 drops column user_id of orders")


def test_plan_declared_expand_unreadable(tmp_path):
    """upgrade() reads the database: it cannot render offline (U000)."""
    green = {"0003": revision("0003", "0002", code="    import sqlalchemy as sa\n"
                                                   "    op.get_bind().execute(sa.text('SELECT 1')).fetchall()\n"
                                                   "    op.execute('ALTER TABLE users ADD COLUMN email text')",
                              phase="expand")}
    plan = _plan(tmp_path, green)
    assert plan.stop[0] == "0003"
    assert "declared expand but classifies contract: U000 revision 0003 cannot render in offline mode" in plan.stop[1]


def test_plan_unknown_sql_in_declared_expand(tmp_path):
    green = {"0003": revision("0003", "0002", "ALTER TABLE users FROBNICATE everything", phase="expand")}
    plan = _plan(tmp_path, green)
    assert plan.stop[0] == "0003" and ": U000 " in plan.stop[1]


def test_plan_trust_reviewed_override(tmp_path):
    """A P507 suppressed with a reason lets the declaration win (the check then proves it); trust_reviewed=False
    is strict; an unreviewed mismatch always stops."""
    green = {"0003": revision("0003", "0002", "ALTER TABLE users DROP COLUMN name", phase="expand",
                              header="# migrator: ignore P507 reason: column unused since v0.9\n")}
    _, project = make_repo(tmp_path / "repo", green=green)
    with pytest.raises(CompatRefused, match="revision 0003 is declared expand but classifies contract"):
        capply.plan_green(project, "alembic.ini", ["0002"], trust_reviewed=False)
    plan = capply.plan_green(project, "alembic.ini", ["0002"])
    assert plan.stop is None and plan.apply == [("0003", "expand")]
    assert plan.revisions[0].note == "declared expand, classified contract; reviewed: column unused since v0.9"


def test_plan_nothing_new(tmp_path):
    plan = _plan(tmp_path, {})
    assert (plan.blue_head, plan.green_head, plan.apply, plan.held_back, plan.stop) == ("0002", "0002", [], [], None)


def test_plan_from_empty_blue(tmp_path):
    _, project = make_repo(tmp_path / "repo", green=GOOD)
    plan = capply.plan_green(project, "alembic.ini", [])
    assert plan.blue_head is None
    assert [r for r, _ in plan.apply] == ["0001", "0002", "0003", "0004"]


def test_green_does_not_descend_from_blue(tmp_path):
    _, project = make_repo(tmp_path / "repo", green=GOOD)
    with pytest.raises(CompatError, match="green does not descend from blue's head 0099") as info:
        capply.plan_green(project, "alembic.ini", ["0099"])
    assert info.value.exit_code == 2


def test_plan_leaves_cwd_and_modules(tmp_path):
    import os

    cwd, path = os.getcwd(), list(sys.path)
    _plan(tmp_path, GOOD)
    assert os.getcwd() == cwd and sys.path == path and "appinfo" not in sys.modules


_INTERRUPTED = """
import sys
from migrator.compat import apply
print("start", flush=True)
apply.upgrade(sys.argv[1], "alembic.ini", sys.argv[2], "heads")
"""


def _runners_in(folder) -> list[int]:
    """Processes running migrator's project runner (migrator/runner/_child.py) with `folder` as cwd."""
    import os
    from pathlib import Path

    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue
        if "_child.py" in cmdline and Path(cwd) == Path(folder).resolve():
            found.append(int(entry.name))
    return found


def test_ctrl_c_kills_the_alembic_child(tmp_path, dbs):
    import signal
    import time

    slow = revision("0003", "0002", "SELECT pg_sleep(60)")
    _, project = make_repo(tmp_path / "repo", green={"0003": slow})
    name = dbs.create()
    proc = subprocess.Popen([sys.executable, "-c", _INTERRUPTED, str(project), dbs.url(name)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "start"
        deadline = time.monotonic() + 20
        while not _runners_in(project) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _runners_in(project)
        time.sleep(0.5)
        started = time.monotonic()
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=20)
        assert time.monotonic() - started < 10
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode != 0 and "KeyboardInterrupt" in proc.stderr.read()
    assert _runners_in(project) == []


def test_plan_accepts_short_blue_head(tmp_path):
    green = {"0003abcdef": revision("0003abcdef", "0002", "ALTER TABLE users ADD COLUMN email text", phase="expand"),
             "0004": revision("0004", "0003abcdef", "UPDATE users SET email = 'x'", phase="migrate")}
    _, project = make_repo(tmp_path / "repo", green=green)
    plan = capply.plan_green(project, "alembic.ini", ["0003abc"])
    assert plan.blue_head == "0003abcdef" and plan.apply == [("0004", "migrate")]


def test_child_environment(tmp_path, dbs, monkeypatch):
    """The project's child gets `env`, not the server's admin URL nor migrator's private variables (only
    MIGRATOR_RUNNER=1, which migrator.startup reads)."""
    monkeypatch.setenv("MIGRATOR_DATABASE_URL", "postgresql://admin:topsecret@127.0.0.1:5432/postgres")
    check = ("    import os\n"
             "    leaked = sorted(k for k in os.environ if k.startswith('MIGRATOR_') and k != 'MIGRATOR_RUNNER')\n"
             "    assert not leaked, leaked\n"
             "    assert os.environ['APP_SETTING'] == 'on'\n"
             "    op.execute('SELECT 1')")
    _, project = make_repo(tmp_path / "repo", green={"0003": revision("0003", "0002", code=check)})
    name = dbs.create()
    url = dbs.url(name)
    done = capply.upgrade(project, "alembic.ini", url, "heads", {"DATABASE_URL": url, "APP_SETTING": "on"})
    assert done.applied == ["0001", "0002", "0003"]


def test_env_py_exit(tmp_path, dbs):
    _, project = make_repo(tmp_path / "repo")
    (project / "migrations" / "env.py").write_text("import sys\nsys.exit(3)\n")
    name = dbs.create()
    with pytest.raises(CompatError, match="before any revision ran: SystemExit: 3"):
        capply.upgrade(project, "alembic.ini", dbs.url(name), "heads")
