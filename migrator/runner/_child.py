"""The project side of migrator.runner: runs in the APP's interpreter, in a child process.

    <app python> .../migrator/runner/_child.py        (started by migrator.runner.ProjectRunner)

Everything that imports the user's code happens here: alembic's config and revision files, env.py (offline
rendering and online upgrades), the app factory, and the release's revisions on migrator's own connection.
It needs only what the app has: Python 3.8+, alembic 1.7+, SQLAlchemy 1.4+ and whichever PostgreSQL driver
the app uses (psycopg 3, psycopg2, pg8000 or asyncpg). Nothing here imports migrator.

Protocol: one JSON request per line on stdin; one JSON answer per line on the ORIGINAL stdout, which is kept
for the protocol alone (fd 1 then points at stderr, so whatever the project prints lands on stderr, which the
parent captures). Answers: {"ok": true, "result": ...} or {"ok": false, "error": {...}}. The child loads the
project once and keeps it: revision files are imported once, so a global SQLAlchemy MetaData (SQLModel's)
never sees a table defined twice.

Set-up comes from the environment (never argv, which `ps` shows), and the private variables are removed
before project code runs: MIGRATOR_RUNNER_PROJECT (cwd and sys.path[0]), MIGRATOR_RUNNER_INI,
MIGRATOR_RUNNER_SCRIPT_LOCATION, MIGRATOR_RUNNER_APP ("pkg.module:create_app(arg=1)"), MIGRATOR_RUNNER_SHIM
(a folder holding a `migrator` link, appended to sys.path when the app cannot import migrator itself, so that
revisions importing migrator.backfill and apps importing migrator.startup work). MIGRATOR_RUNNER=1 stays set.
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import importlib.util
import io
import json
import os
import re
import sys
import time
import traceback

PROJECT, INI, SCRIPT_LOCATION = "MIGRATOR_RUNNER_PROJECT", "MIGRATOR_RUNNER_INI", "MIGRATOR_RUNNER_SCRIPT_LOCATION"
APP, SHIM = "MIGRATOR_RUNNER_APP", "MIGRATOR_RUNNER_SHIM"
PARENT = "MIGRATOR_RUNNER_PARENT"
PRELOAD = "MIGRATOR_RUNNER_PRELOAD"
DEFAULT_URL = "postgresql://"  # renders PostgreSQL offline, connects nowhere
_RUNNING = re.compile(r"^-- Running (?:upgrade|downgrade|stamp) [^\n]*\n\n$")
_TRANSACTION_MARK = re.compile(r"^(BEGIN|COMMIT);$", re.MULTILINE)
_DRIVERS = ("psycopg", "psycopg2", "pg8000", "asyncpg")
_ASYNC_DRIVERS = ("asyncpg", "psycopg_async")


class Problem(Exception):
    """An answer the parent turns into a MigratorError: kind "config" | "usage" | "app" | "revision" | "database"."""

    def __init__(self, kind, message, **extra):
        super().__init__(message)
        self.kind, self.message, self.extra = kind, message, extra


_VALIDATION = re.compile(r"^\d+ validation errors? for ")


def first_line(exc):
    """`Type: first line` of the innermost driver error when there is one (SQLAlchemy wraps it in .orig).
    A settings class's ValidationError also names its first field and what is wrong with it."""
    orig = getattr(exc, "orig", None)
    if isinstance(orig, BaseException):
        exc = orig
    lines = [ln.strip() for ln in str(exc).strip().splitlines() if ln.strip()]
    line = lines[0] if lines else ""
    if _VALIDATION.match(line) and len(lines) >= 3:
        line = "%s: %s: %s" % (line, lines[1], lines[2].split(" [type=")[0])
    return "%s: %s" % (type(exc).__name__, line) if line else type(exc).__name__


def _chain(exc):
    """The exception, what it wraps, its causes; not a context hidden with `raise ... from None` (a backfill
    that gave up after its lock retries is not a lock timeout the applier should retry the revision for)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        orig = getattr(exc, "orig", None)
        if isinstance(orig, BaseException) and id(orig) not in seen:
            seen.add(id(orig))
            yield orig
        exc = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)


def sqlstate(exc):
    for e in _chain(exc):
        for attr in ("sqlstate", "pgcode"):  # psycopg 3 / asyncpg, psycopg2
            value = getattr(e, attr, None)
            if isinstance(value, str) and value:
                return value
        args = getattr(e, "args", ())
        if args and isinstance(args[0], dict) and isinstance(args[0].get("C"), str):  # pg8000
            return args[0]["C"]
    return None


def failed_statement(exc):
    for e in _chain(exc):
        statement = getattr(e, "statement", None)
        if isinstance(statement, str):
            statement = " ".join(statement.split())
            return statement if len(statement) <= 300 else statement[:297] + "..."
    return None


def disconnected(exc):
    for e in _chain(exc):
        if getattr(e, "connection_invalidated", False):
            return True
        if sqlstate(e) in ("57P01", "57P02", "57P03", "08006", "08003", "08001"):
            return True
    return False


# --- set-up -------------------------------------------------------------------------------------------------
class Project:
    def __init__(self):
        self.folder = os.path.abspath(os.environ.pop(PROJECT, os.getcwd()))
        self.ini = os.environ.pop(INI, "alembic.ini")
        self.script_location = os.environ.pop(SCRIPT_LOCATION, "") or None
        self.app_spec = os.environ.pop(APP, "") or None
        self.shim = os.environ.pop(SHIM, "") or None
        os.environ["MIGRATOR_RUNNER"] = "1"
        self.cfg = None
        self.script = None
        self.app_context = None
        self.app_error = None
        self.engines = {}
        self.migrator_installed = None  # where the app's interpreter imports migrator from, without the shim

    def prepare_imports(self):
        os.chdir(self.folder)
        here = os.path.dirname(os.path.abspath(__file__))
        sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
        sys.path.insert(0, self.folder)  # the worktree's package wins over an installed (editable) copy
        try:
            found = importlib.util.find_spec("migrator")
        except (ImportError, ValueError):
            found = None
        self.migrator_installed = found.origin if found is not None else None
        if found is None and self.shim:
            sys.path.append(self.shim)

    # -- the app factory ------------------------------------------------------------------------------------
    def enter_app(self):
        if self.app_spec is None or self.app_context is not None:
            return
        if self.app_error is not None:
            raise Problem("app", self.app_error)
        try:
            app = call_factory(self.app_spec)
            if hasattr(app, "app_context"):  # Flask: env.py reads current_app
                ctx = app.app_context()
                ctx.push()
                self.app_context = ctx
            else:
                self.app_context = app
        except Problem as exc:
            self.app_error = exc.message
            raise
        except BaseException as exc:  # noqa: BLE001 - any failure of the user's factory is reported, not raised
            if isinstance(exc, KeyboardInterrupt):
                raise
            self.app_error = "app factory %s failed: %s" % (self.app_spec, first_line(exc))
            raise Problem("app", self.app_error, traceback=_tail(exc))

    # -- alembic ---------------------------------------------------------------------------------------------
    def load(self):
        if self.script is not None:
            return self.script
        import_alembic()
        from alembic.config import Config
        from alembic.script import ScriptDirectory
        from alembic.util import CommandError

        self.enter_app()
        path = self.ini if os.path.isabs(self.ini) else os.path.join(self.folder, self.ini)
        if os.path.isdir(path):
            raise Problem("config", "%s: alembic config is not a file" % self.ini)
        if not os.path.isfile(path):
            raise Problem("config", "%s: alembic config not found" % self.ini)
        cfg = Config(path, stdout=sys.stderr)
        try:
            parser = cfg.file_config
            if not parser.has_section(cfg.config_ini_section):
                raise Problem("config", "%s: no [%s] section (not an alembic config?)" % (self.ini, cfg.config_ini_section))
            if self.script_location:
                cfg.set_main_option("script_location", self.script_location)
            if not cfg.get_main_option("sqlalchemy.url"):
                cfg.set_main_option("sqlalchemy.url", DEFAULT_URL)
        except Problem:
            raise
        except UnicodeDecodeError:
            raise Problem("config", "%s: invalid alembic config: not UTF-8 text" % self.ini)
        except Exception as exc:  # configparser errors
            raise Problem("config", "%s: invalid alembic config: %s" % (self.ini, first_line(exc)))
        try:
            script = ScriptDirectory.from_config(cfg)
        except CommandError as exc:
            message = first_line(exc).split(": ", 1)[-1]
            if "script_location" in message or "No 'script_location'" in message:
                message = "no script_location in the [alembic] section (give [tool.migrator] script_location)"
            raise Problem("config", "%s: %s" % (self.ini, message))
        except Exception as exc:
            raise Problem("config", "%s: invalid alembic config: %s" % (self.ini, first_line(exc)))
        env = os.path.join(script.dir, "env.py")
        if not os.path.isfile(env):
            hint = " (Flask-Migrate supplies the folder at run time: set [tool.migrator] script_location)" \
                if os.path.abspath(script.dir) == self.folder else ""
            raise Problem("config", "%s: no env.py in %s%s" % (self.ini, display(script.dir), hint))
        try:
            with quiet():
                script.get_heads()  # imports and links every revision file
        except Exception as exc:
            raise Problem("config", "%s: cannot load the revisions in %s: %s"
                          % (self.ini, display(script.dir), _explain(exc)), traceback=_tail(exc))
        self.cfg, self.script = cfg, script
        return script


def call_factory(spec):
    """"pkg.module:create_app", "pkg.module:create_app(config='x', debug=False)" or "pkg.module:app"."""
    module_name, sep, expr = spec.partition(":")
    if not sep or not module_name.strip() or not expr.strip():
        raise Problem("config", "app %r: expected 'package.module:factory' or 'package.module:factory(args)'" % spec)
    try:
        node = ast.parse(expr.strip(), mode="eval").body
    except SyntaxError:
        raise Problem("config", "app %r: %r is not a name or a call" % (spec, expr))
    args, kwargs, call = [], {}, isinstance(node, ast.Call)
    if call:
        try:
            args = [ast.literal_eval(a) for a in node.args]
            kwargs = {k.arg: ast.literal_eval(k.value) for k in node.keywords if k.arg}
        except ValueError:
            raise Problem("config", "app %r: arguments must be literals (strings, numbers, True/False/None)" % spec)
        node = node.func
    if not isinstance(node, ast.Name):
        raise Problem("config", "app %r: %r is not a name or a call" % (spec, expr))
    module = importlib.import_module(module_name.strip())
    target = getattr(module, node.id, None)
    if target is None:
        raise Problem("config", "app %r: %s has no attribute %r" % (spec, module_name, node.id))
    return target(*args, **kwargs) if call else target


def display(path):
    path = os.path.abspath(path)
    return os.path.relpath(path) if path.startswith(os.getcwd()) else path


def _tail(exc, limit=12):
    lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
    return "".join(lines)[-4000:] if lines else ""


def _explain(exc):
    text = first_line(exc)
    if "application context" in text:
        text += " (env.py needs the app: set [tool.migrator] app = 'package.module:create_app')"
    elif _VALIDATION.match(text.split(": ", 1)[-1]) or type(exc).__name__ in ("ValidationError", "KeyError"):
        text += (" (the app's settings: give them in [tool.migrator.compat.env] or [tool.migrator.compat.env_map]; "
                 "compat also takes --env KEY=VALUE)")
    return text


class quiet:
    """stdout to stderr while project code runs; INFO logs dropped; env.py's logging set-up undone afterwards."""

    def __enter__(self):
        import logging

        self.logging = logging
        self.previous = logging.root.manager.disable
        self.saved = _logging_state(logging)
        logging.disable(max(self.previous, logging.INFO))
        self.stdout, sys.stdout = sys.stdout, sys.stderr

    def __exit__(self, *exc):
        sys.stdout = self.stdout
        self.logging.disable(self.previous)
        _restore_logging(self.logging, self.saved)


def _logging_state(logging):
    loggers = {n: lg for n, lg in logging.root.manager.loggerDict.items() if isinstance(lg, logging.Logger)}
    loggers[""] = logging.root
    return {n: (lg, lg.disabled, lg.level, list(lg.handlers), lg.propagate) for n, lg in loggers.items()}


def _restore_logging(logging, saved):
    for name, lg in list(logging.root.manager.loggerDict.items()):
        if isinstance(lg, logging.Logger) and name not in saved:
            lg.disabled, lg.level, lg.handlers, lg.propagate = False, logging.NOTSET, [], True
    for lg, disabled, level, handlers, propagate in saved.values():
        lg.disabled, lg.level, lg.handlers, lg.propagate = disabled, level, handlers, propagate


# --- requests -----------------------------------------------------------------------------------------------
def op_probe(project, req):
    util = importlib.util
    versions = {}
    for name in ("alembic", "sqlalchemy"):
        try:
            versions[name] = importlib.import_module(name).__version__
        except Exception:  # noqa: BLE001
            versions[name] = None
    return {"python": sys.version.split()[0], "executable": sys.executable, **versions,
            "drivers": [d for d in _DRIVERS if util.find_spec(d) is not None],
            "migrator": project.migrator_installed, "pytest": _find(util, "pytest") is not None,
            "xdist": _find(util, "xdist") is not None}


def _find(util, name):
    try:
        spec = util.find_spec(name)
    except (ImportError, ValueError):
        return None
    return spec.origin if spec is not None else None


def op_history(project, req):
    script = project.load()
    out = []
    for rev in script.walk_revisions():
        down = rev.down_revision
        downs = [] if down is None else list(down) if isinstance(down, (tuple, list)) else [down]
        out.append({"revision": rev.revision, "down": downs,
                    "branch_labels": sorted(getattr(rev, "_orig_branch_labels", None) or ()),
                    "path": os.path.abspath(rev.path) if rev.path else None,
                    "is_branch_point": bool(rev.is_branch_point), "doc": rev.doc or ""})
    return {"heads": sorted(script.get_heads()), "bases": sorted(script.get_bases()), "revisions": out,
            "script_dir": os.path.abspath(script.dir)}


def _one_revision(script, ident, shown):
    from alembic.script.revision import RevisionError
    from alembic.util import CommandError

    try:
        found = script.get_revisions(ident)
    except (CommandError, RevisionError) as exc:
        raise Problem("usage", "--range %r: %s" % (shown, first_line(exc).split(": ", 1)[-1]))
    revisions = [r for r in found if r is not None]
    if len(revisions) != 1:
        names = ", ".join(r.revision for r in revisions) or "none"
        raise Problem("usage", "--range %r: %r names %d revisions (%s)" % (shown, ident, len(revisions), names))
    return revisions[0]


def upgrade_steps(script, revision_range, ini):
    """The RevisionSteps to render, base first, with the range's start (exclusive) and destination."""
    from alembic.util import CommandError

    heads = script.get_heads()
    text = (revision_range or "").strip()
    try:
        if not text:
            start, dest = None, None
        elif ":" in text:
            first, _, last = text.partition(":")
            start, dest = first.strip() or None, last.strip() or None
            if ":" in last:
                raise Problem("usage", "--range %r: expected BASE:HEAD" % revision_range)
        else:
            if text.lower() == "base":
                raise Problem("usage", "--range %r selects no revision (try base:head)" % revision_range)
            revision = _one_revision(script, text, revision_range)
            start, dest = revision.down_revision, revision.revision
        if start is not None and not isinstance(start, (tuple, list)):
            start = None if start.lower() == "base" else _one_revision(script, start, revision_range).revision
        if dest is None or dest == "head":
            if len(heads) > 1:
                raise Problem("config", "%s: multiple heads (%s): give --range BASE:HEAD naming one of them (or "
                              "base:heads for all)" % (ini, ", ".join(sorted(heads))))
            if not heads:
                return [], None, "head"
            dest = heads[0]
        elif dest != "heads":
            if dest.lower() == "base":
                raise Problem("usage", "--range %r ends at base: it selects no revision" % revision_range)
            dest = _one_revision(script, dest, revision_range).revision
        steps = script._upgrade_revs(dest, start)
    except CommandError as exc:
        raise Problem("usage", "--range %r: %s" % (revision_range, first_line(exc).split(": ", 1)[-1]))
    if not steps and start is not None and start != dest:
        raise Problem("usage", "--range %r: %s does not come after %s" % (revision_range, dest, start))
    return steps, start, dest


class OfflineBuffer(io.StringIO):
    """alembic's output buffer in offline mode. Drops alembic's `-- Running upgrade` lines, puts a `;` after a
    trailing `-- comment` on a line of its own (else two statements would merge), and remembers for each write
    which line of the current revision file made it (the `op.*` call), so findings point at that line."""

    def __init__(self):
        super().__init__()
        self.current = None  # (path, list of [sql offset, line]) of the revision being rendered
        self.span_start = 0
        self.forced_line = None  # the op call of a batch entry alembic is flushing (see LinedBatch)

    def write(self, text):
        if _RUNNING.match(text):
            return len(text)
        if text.endswith(";\n\n"):
            body = text[:-3]
            if "--" in body[body.rfind("\n") + 1:]:
                text = body + "\n;\n\n"
        if self.current is not None:
            line = self.forced_line or _caller_line(self.current[0])
            if line is not None:
                self.current[1].append([self.tell() - self.span_start, line])
        return super().write(text)


class LinedBatch(list):
    """alembic's batch_alter_table() queues its ops and writes their SQL when the `with` block ends, where the
    only frame in the revision file is the `with` line. This queue remembers the line of each op call and, while
    alembic flushes it, tells the buffer which call wrote the SQL."""

    def __init__(self, buffer):
        super().__init__()
        self.buffer = buffer
        self.lines = []

    def append(self, item):
        current = self.buffer.current
        self.lines.append(_caller_line(current[0]) if current is not None else None)
        super().append(item)

    def __iter__(self):
        try:
            for item, line in zip(list(super().__iter__()), self.lines):
                self.buffer.forced_line = line
                yield item
        finally:
            self.buffer.forced_line = None


@contextlib.contextmanager
def lined_batches(buffer):
    """Give every BatchOperationsImpl made while rendering a LinedBatch queue."""
    try:
        from alembic.operations.batch import BatchOperationsImpl
    except ImportError:  # pragma: no cover - an alembic without batch mode
        yield
        return
    original = BatchOperationsImpl.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        if isinstance(getattr(self, "batch", None), list) and not self.batch:
            self.batch = LinedBatch(buffer)

    BatchOperationsImpl.__init__ = init
    try:
        yield
    finally:
        BatchOperationsImpl.__init__ = original


def _caller_line(path):
    frame = sys._getframe(2)
    depth = 0
    while frame is not None and depth < 80:
        if frame.f_code.co_filename == path:
            return frame.f_lineno
        frame, depth = frame.f_back, depth + 1
    return None


def op_render(project, req):
    """Offline (`alembic upgrade --sql`) rendering of each revision of the range: its SQL, cut per revision."""
    from alembic.runtime.environment import EnvironmentContext

    script = project.load()
    steps, start, dest = upgrade_steps(script, req.get("range"), project.ini)
    if not steps:
        return {"revisions": []}
    cfg = project.cfg
    buffer = OfflineBuffer()
    cfg.output_buffer = buffer
    items = [{"revision": s.revision.revision, "path": os.path.abspath(s.revision.path) if s.revision.path else None,
              "sql": "", "error": None, "spans": [], "lines": [], "in_transaction": False,
              "version_table": "alembic_version", "version_table_schema": None} for s in steps]
    state = {"current": None, "calls": 0, "preamble": ""}
    for step, item in zip(steps, items):
        step.migration_fn = _guarded(step.migration_fn, item)

    def migrations(heads, context):
        state["calls"] += 1
        if state["calls"] == 1:
            state["preamble"] = buffer.getvalue()
        marks = _TRANSACTION_MARK.findall(state["preamble"])
        in_transaction = bool(marks) and marks[-1] == "BEGIN"
        for step, item in zip(steps, items):
            item["in_transaction"] = in_transaction
            item["version_table"] = context.version_table
            item["version_table_schema"] = context.version_table_schema
            begin = buffer.tell()
            offset = sum(b - a for a, b in item["spans"])
            buffer.span_start = begin - offset
            buffer.current = (item["path"], item["lines"])
            state["current"] = item
            try:
                yield step
            finally:
                item["spans"].append((begin, buffer.tell()))
                buffer.current = None
                state["current"] = None

    env = display(os.path.join(script.dir, "env.py"))
    starting = list(start) if isinstance(start, (tuple, list)) else start
    try:
        with quiet(), lined_batches(buffer), EnvironmentContext(cfg, script, fn=migrations, as_sql=True,
                                                                starting_rev=starting, destination_rev=dest):
            script.run_env()
    except Problem:
        raise
    except Exception as exc:
        current = state["current"]
        if current is not None:
            raise Problem("config", "%s: alembic failed on revision %s: %s" % (env, current["revision"], _explain(exc)))
        raise Problem("config", "%s: cannot run env.py in offline mode: %s" % (env, _explain(exc)),
                      traceback=_tail(exc))
    finally:
        cfg.output_buffer = None
    if state["calls"] == 0:
        raise Problem("config", "%s: env.py never called context.run_migrations() in offline mode" % env)
    text = buffer.getvalue()
    for item in items:
        item["sql"] = "".join(text[a:b] for a, b in item.pop("spans"))
    return {"revisions": items}


def _guarded(fn, item):
    def upgrade(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # a revision that reads the database cannot render offline: recorded, not fatal
            item["error"] = item["error"] or first_line(exc)
            return None
    return upgrade


def op_upgrade(project, req):
    """`alembic upgrade <targets>` ONLINE through the project's env.py, one target after the other."""
    from alembic.runtime.environment import EnvironmentContext

    script = project.load()
    cfg = project.cfg
    url = req.get("url")
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    state = {"revision": None, "applied": []}

    def tracked(step):
        fn, ident = step.migration_fn, step.revision.revision

        def upgrade(*args, **kwargs):
            state["revision"] = ident
            result = fn(*args, **kwargs)
            state["applied"].append(ident)
            return result

        step.migration_fn = upgrade
        return step

    try:
        for target in req["targets"]:
            def steps(rev, context, target=target):
                return [tracked(s) for s in script._upgrade_revs(target, rev)]

            with quiet(), EnvironmentContext(cfg, script, fn=steps, as_sql=False, starting_rev=None,
                                             destination_rev=target):
                script.run_env()
    except Problem:
        raise
    except (Exception, SystemExit) as exc:  # env.py calling sys.exit() is a failure like any other
        kind = "revision" if state["revision"] else "before"  # env.py, the connection: before any revision ran
        raise Problem(kind, _explain(exc), revision=state["revision"], statement=failed_statement(exc),
                      sqlstate=sqlstate(exc), applied=state["applied"], traceback=_tail(exc))
    finally:
        if url:
            cfg.set_main_option("sqlalchemy.url", DEFAULT_URL)
    return {"applied": state["applied"]}


# --- the release's revisions on migrator's own connection (no env.py) -------------------------------------------
def _engine(project, url, name="migrator apply"):
    from sqlalchemy import create_engine, pool
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if "+" not in parsed.drivername:
        util = importlib.util
        available = [d for d in _DRIVERS if util.find_spec(d) is not None]
        if not available:
            raise Problem("app", "no PostgreSQL driver importable in %s (psycopg, psycopg2, pg8000 or asyncpg)"
                          % sys.executable)
        parsed = parsed.set(drivername="postgresql+" + available[0])
    driver = parsed.drivername.split("+", 1)[1]
    if driver in _ASYNC_DRIVERS:
        from sqlalchemy.ext.asyncio import create_async_engine

        args = {"server_settings": {"application_name": name}} if driver == "asyncpg" else {"application_name": name}
        return create_async_engine(parsed, poolclass=pool.NullPool, connect_args=args), True
    args = {"application_name": name} if driver in ("psycopg", "psycopg2") else {}
    kwargs = {"future": True} if _sqlalchemy_major() < 2 else {}
    return create_engine(parsed, poolclass=pool.NullPool, connect_args=args, **kwargs), False


def _sqlalchemy_major():
    import sqlalchemy

    return int(sqlalchemy.__version__.split(".")[0])


def _with_connection(project, url, body, name="migrator apply"):
    """body(sync connection), on a fresh connection; async drivers go through run_sync."""
    engine, is_async = _engine(project, url, name)
    if not is_async:
        try:
            with engine.connect() as conn:
                return body(conn)
        finally:
            engine.dispose()
    import asyncio

    async def main():
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(body)
        finally:
            await engine.dispose()

    return asyncio.run(main())


class _Settings:
    """What migrator.backfill reads from the release settings."""

    def __init__(self, data):
        self.ledger_schema = data.get("ledger_schema") or "migrator"
        self.lock_retries = int(data.get("lock_retries") or 0)
        self.retry_backoff_base = float(data.get("retry_backoff_base") or 0.2)
        self.retry_backoff_max = float(data.get("retry_backoff_max") or 10.0)
        self.lock_timeout_ms = data.get("lock_timeout_ms")

    def backoff(self, attempt):
        """Full jitter, capped exponential: as migrator.release.settings.ReleaseSettings.backoff."""
        import random

        return random.uniform(0, min(self.retry_backoff_max, self.retry_backoff_base * (2 ** max(0, attempt - 1))))


def op_apply(project, req):
    """Apply ONE revision as a release phase does: our own connection, session settings first, the ledger row
    written in the revision's own transaction (`record`), no env.py."""
    from alembic.runtime.environment import EnvironmentContext
    from sqlalchemy import text

    script = project.load()
    rev = req["revision"]
    record, forget = req.get("record"), req.get("forget")
    started = time.monotonic()

    def steps(heads, context):
        found = script._upgrade_revs(rev, heads)
        names = [s.revision.revision for s in found]
        if names != [rev]:
            raise Problem("revision", "revision %s cannot be applied alone from the database's alembic heads (%s): "
                          "alembic would run %s" % (rev, ", ".join(heads) or "base", ", ".join(names) or "nothing"),
                          revision=rev, alone=True)
        return found

    def recorded(ctx, step, heads, run_args):
        conn = ctx.connection
        for ident in step.up_revision_ids:
            if record:
                conn.execute(text(record["sql"]), dict(record.get("params") or {}, revision=ident))
        if forget:
            conn.execute(text(forget["sql"]), dict(forget.get("params") or {}))

    def body(conn):
        for statement in req.get("session_sql") or []:
            conn.exec_driver_sql(statement)
        conn.commit()
        context = _backfill_context(req)
        with context:
            with EnvironmentContext(project.cfg, script, fn=steps, as_sql=False, destination_rev=rev) as env:
                env.configure(connection=conn, target_metadata=None, transaction_per_migration=True,
                              on_version_apply=recorded, version_table=req.get("version_table") or "alembic_version",
                              version_table_schema=req.get("version_table_schema"))
                with env.begin_transaction():
                    env.run_migrations()
        if conn.in_transaction():
            conn.commit()

    try:
        with quiet():
            _with_connection(project, req["url"], body, req.get("application_name") or "migrator apply")
    except Problem:
        raise
    except Exception as exc:
        extra = {}
        reason = next((getattr(e, "reason", None) for e in _chain(exc) if type(e).__name__ == "BackfillError"), None)
        if reason:  # a migrator.backfill stopped on purpose: lost coordinator lock, or its lock retries spent
            extra["backfill"] = reason
        raise Problem("revision", first_line(exc), revision=rev, statement=failed_statement(exc),
                      sqlstate=sqlstate(exc), disconnected=disconnected(exc), traceback=_tail(exc), **extra)
    return {"revision": rev, "seconds": round(time.monotonic() - started, 3)}


class _backfill_context:
    """Tell migrator.backfill (when a revision imported it) the release, revision and settings."""

    def __init__(self, req):
        self.req, self.cm = req, None

    def __enter__(self):
        module = sys.modules.get("migrator.backfill")
        release = self.req.get("release")
        if module is not None and release and hasattr(module, "release_context"):
            args = (release.get("id"), self.req["revision"], _Settings(release.get("settings") or {}), sys.stderr)
            try:
                self.cm = module.release_context(*args, retry_budget=release.get("retry_budget"),
                                                 lock=release.get("lock"))
            except TypeError:  # the app's own, older migrator.backfill
                self.cm = module.release_context(*args)
            self.cm.__enter__()

    def __exit__(self, *exc):
        if self.cm is not None:
            return self.cm.__exit__(*exc)
        return False


def op_render_bare(project, req):
    """One revision's upgrade() as SQL without env.py (postgresql dialect, literal binds): what the applier
    reads to find its CONCURRENTLY index builds."""
    from alembic.runtime.environment import EnvironmentContext
    from alembic.runtime.migration import RevisionStep

    script = project.load()
    revision = script.get_revision(req["revision"])
    buffer = io.StringIO()

    def steps(heads, context):
        return [RevisionStep(script.revision_map, revision, True)]

    down = revision.down_revision
    start = down if isinstance(down, str) else None
    try:
        with quiet(), EnvironmentContext(project.cfg, script, fn=steps, as_sql=True, starting_rev=start,
                                         destination_rev=revision.revision) as env:
            env.configure(dialect_name="postgresql", output_buffer=buffer, literal_binds=True,
                          transaction_per_migration=True,
                          version_table=req.get("version_table") or "alembic_version",
                          version_table_schema=req.get("version_table_schema"),
                          dialect_opts={"paramstyle": "named"})
            with env.begin_transaction():
                env.run_migrations()
    except Exception as exc:
        raise Problem("revision", first_line(exc), revision=revision.revision)
    return {"sql": buffer.getvalue()}


OPS = {"probe": op_probe, "render_bare": op_render_bare, "history": op_history, "render": op_render, "upgrade": op_upgrade, "apply": op_apply}


def watch_parent():
    """Die with migrator: a SIGKILLed coordinator must not leave its revisions running. The child is in a
    session of its own (a Ctrl-C is migrator's to handle), so it watches for being orphaned instead; the
    server then rolls the child's open transaction back."""
    import threading

    try:
        parent = int(os.environ.pop(PARENT, "0"))
    except ValueError:
        parent = 0
    if not parent:
        return

    def watch():
        while True:
            if os.getppid() != parent:
                os._exit(70)
            time.sleep(0.1)

    threading.Thread(target=watch, name="migrator-watch-parent", daemon=True).start()


def import_alembic():
    """alembic's config and script modules (with SQLAlchemy: most of a child's start-up). Mako, which alembic
    imports, would load Pygments to colour its HTML error pages (80 ms): it is kept from doing so, and Pygments
    stays importable for the project."""
    blocked = "mako.exceptions" not in sys.modules and "mako.ext.pygmentplugin" not in sys.modules
    if blocked:
        sys.modules["mako.ext.pygmentplugin"] = None  # an ImportError: mako installs its plain fallback
    try:
        import alembic.config  # noqa: F401
        import alembic.script  # noqa: F401
    finally:
        if blocked and sys.modules.get("mako.ext.pygmentplugin", 0) is None:
            del sys.modules["mako.ext.pygmentplugin"]


def warm_up():
    """A spare child (started with --warm) imports what every request needs before it knows its project, then
    takes its environment and folder from the first line: {"op": "setup", "env": {...}, "cwd": ...}."""
    try:
        import_alembic()
    except Exception:  # noqa: BLE001 - the request that needs alembic reports what is missing
        pass
    hint = os.environ.pop(PRELOAD, "")  # the URL form the app will get, e.g. "postgresql+psycopg://"
    if hint:
        preload_driver(hint)
    line = sys.stdin.readline()
    if not line.strip():
        return False
    setup = json.loads(line)
    os.environ.clear()
    os.environ.update(setup["env"])
    os.chdir(setup["cwd"])
    return True


# the module SQLAlchemy loads for the app's own URL (a bare postgresql:// means psycopg2 there)
_DRIVERS_OF = {"": "psycopg2", "psycopg2": "psycopg2", "psycopg": "psycopg", "psycopg_async": "psycopg",
               "asyncpg": "asyncpg", "pg8000": "pg8000"}


def _driver_module(url):
    """The driver module SQLAlchemy loads for a PostgreSQL URL ("postgresql+psycopg://..."), else None."""
    scheme, sep, _ = url.partition("://")
    name, _, driver = scheme.partition("+")
    return _DRIVERS_OF.get(driver) if sep and name in ("postgresql", "postgres") else None


def preload_driver(url=None):
    """Import the driver that the app's URL names (by default the one in the variable MIGRATOR_URL_VAR names)
    in the background, while the parent works: the upgrade that comes next would otherwise wait for it."""
    import threading

    if url is None:
        url = os.environ.get(os.environ.get("MIGRATOR_URL_VAR") or "DATABASE_URL", "")
    module = _driver_module(url)
    if module is None or module in sys.modules or importlib.util.find_spec(module) is None:
        return

    def load():
        try:
            importlib.import_module(module)
        except Exception:  # noqa: BLE001 - the upgrade that needs it reports the problem
            pass

    threading.Thread(target=load, name="migrator-preload-driver", daemon=True).start()


# --- the fork server ---------------------------------------------------------------------------------------
def _receive(sock):
    """(message, fds) of one SCM_RIGHTS message (socket.recv_fds is 3.9+; the app may run 3.8)."""
    import array
    import socket

    fds = array.array("i")
    msg, ancdata, _, _ = sock.recvmsg(64, socket.CMSG_SPACE(3 * fds.itemsize))
    for level, kind, data in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(data[: len(data) - (len(data) % fds.itemsize)])
    return msg, list(fds)


def _exit_code(status):
    if os.WIFSIGNALED(status):
        return -os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


def _reap(sock):
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        sock.sendall(("exit %d %d\n" % (pid, _exit_code(status))).encode())


def serve_forks(fd):
    """--zygote FD: import what every child needs once, then fork a child per request. A request is one message
    on the socket FD carrying three file descriptors (the new child's stdin, stdout, stderr); the answer is
    "pid N", and "exit N CODE" when that child ends (this process reaps its children). Returns only in a forked
    child, which then goes on as a spare does: it waits for its "setup". Ends when migrator closes the socket
    (or dies): the forked children watch this process and end with it."""
    import select
    import signal
    import socket

    sock = socket.socket(fileno=fd)
    try:
        import_alembic()
    except Exception:  # noqa: BLE001 - the request that needs alembic reports what is missing
        pass
    # the usual drivers too (every child would import its own otherwise), and the one the hint names; here, not
    # in a thread: a fork must not happen while another thread holds a lock
    hinted = _driver_module(os.environ.pop(PRELOAD, ""))
    for module in ("sqlalchemy.dialects.postgresql", "psycopg", "psycopg2", hinted):
        try:
            if module and module not in sys.modules and importlib.util.find_spec(module) is not None:
                importlib.import_module(module)
        except Exception:  # noqa: BLE001 - the upgrade that needs it reports the problem
            pass
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w, warn_on_full_buffer=False)
    signal.signal(signal.SIGCHLD, lambda *_: None)  # wakes the select below: a child to reap
    while True:
        ready, _, _ = select.select([sock, wake_r], [], [])
        if wake_r in ready:
            while True:
                try:
                    if not os.read(wake_r, 512):
                        break
                except BlockingIOError:
                    break
            _reap(sock)
        if sock not in ready:
            continue
        msg, fds = _receive(sock)
        if not msg:
            os._exit(0)  # migrator closed its end, or died
        if len(fds) != 3:
            for extra in fds:
                os.close(extra)
            continue
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            os.close(wake_r)
            os.close(wake_w)
            sock.close()
            os.setsid()  # a process group of its own, as a spawned child has: migrator stops it with killpg
            for target, received in enumerate(fds):
                os.dup2(received, target)
                os.close(received)
            os.environ[PARENT] = str(os.getppid())  # watch this server: it ends when migrator does
            del sys.argv[1:]
            return
        for received in fds:
            os.close(received)
        sock.sendall(("pid %d\n" % pid).encode())


def main():
    warm = sys.argv[1:] == ["--warm"]
    if sys.argv[1:2] == ["--zygote"]:
        serve_forks(int(sys.argv[2]))
        warm = True
    protocol = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)  # the project's prints (and sys.stdout, which writes to fd 1) now go to stderr
    watch_parent()
    if warm and not warm_up():
        return 0
    os.environ.pop(PARENT, None)  # a spare's setup sets it again: never left for project code
    project = Project()
    project.prepare_imports()

    def answer(payload):
        protocol.write(json.dumps(payload, default=str) + "\n")
        protocol.flush()

    answer({"ok": True, "result": {"ready": True, "pid": os.getpid()}})
    preloaded = False
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            req = json.loads(line)
            op = req.get("op")
            if op == "exit":
                answer({"ok": True, "result": None})
                break
            handler = OPS.get(op)
            if handler is None:
                raise Problem("usage", "unknown request %r" % op)
            answer({"ok": True, "result": handler(project, req)})
            if op == "history" and not preloaded:
                preloaded = True
                preload_driver()
        except Problem as exc:
            answer({"ok": False, "error": dict(exc.extra, kind=exc.kind, message=exc.message)})
        except SystemExit as exc:  # a project's code called sys.exit(): report it, stay alive
            answer({"ok": False, "error": {"kind": "app", "message": "project code called sys.exit(%s)" % exc.code}})
        except Exception as exc:  # noqa: BLE001 - anything else is reported with its traceback tail
            answer({"ok": False, "error": {"kind": "app", "message": _explain(exc), "traceback": _tail(exc)}})
    return 0


if __name__ == "__main__":
    sys.exit(main())
