"""Project code in the app's own interpreter: one long-lived child process per interpreter, folder and environment.

    python = find_python(project_dir, explicit=opts.python, configured=config.python)
    with ProjectRunner(worktree / "backend", python=python, alembic_ini="alembic.ini", env=app_env) as child:
        history = child.history()                      # heads, bases, revisions (ids, parents, labels, files)
        rendered = child.render("0003:head")           # offline SQL per revision, with the op.* call lines
        child.upgrade(url, ["heads"])                  # ONLINE through env.py
        child.apply(url, "0004", session_sql=[...])    # a release revision on migrator's own connection

Everything that imports the user's code (alembic's config, revision files, env.py, the app factory) runs in
the child (migrator/runner/_child.py): migrator's own dependencies never meet the app's, an app pinned to
SQLAlchemy 1.4 works beside migrator's SQLAlchemy 2, and each worktree's package is first on the child's
sys.path (it wins over an editable install of the main checkout). The child is started once and keeps the
project loaded: its revision files are imported once (a global MetaData never sees a table twice).

The child's environment is fixed when it starts (apps read settings at import), so a runner serves one
environment; `RunnerPool` keeps one child per (interpreter, folder, environment) and closes them all.

Errors: a problem in the project (config, app factory, env.py, a revision) is ProjectError (exit 2) with
`kind`, `revision`, `statement`, `sqlstate`; callers turn revision failures into their own policy errors.
Output of the child goes to `echo` (a stream) when given, always scrubbed of the secrets it was told.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from migrator.errors import MigratorError
from migrator.runner import forks
# the child's own helper (standard library only: the child cannot import migrator), shared with the parent
from migrator.runner._child import _chain as exception_chain  # noqa: F401 - public here

CHILD = Path(__file__).with_name("_child.py")
START_TIMEOUT = 120.0
TAIL_LINES = 400
# never handed to project code: the release target's admin URL, the scratch server, the evidence key
PRIVATE_ENV = ("MIGRATOR_DATABASE_URL", "MIGRATOR_SCRATCH_URL", "MIGRATOR_EVIDENCE_KEY")
RUNNER_ENV = "MIGRATOR_RUNNER"


class ProjectError(MigratorError):
    """The project's code could not do what was asked (exit 2 unless a caller decides otherwise)."""

    def __init__(self, message: str, kind: str = "app", **extra):
        super().__init__(message)
        self.kind = kind
        self.revision: str | None = extra.get("revision")
        self.statement: str | None = extra.get("statement")
        self.sqlstate: str | None = extra.get("sqlstate")
        self.disconnected: bool = bool(extra.get("disconnected"))
        self.applied: list[str] = list(extra.get("applied") or [])
        self.traceback: str = extra.get("traceback") or ""
        self.extra = extra


# --- which interpreter ------------------------------------------------------------------------------------------
def find_python(project_dir: str | Path, explicit: str | None = None, configured: str | None = None,
                base: Path | None = None) -> tuple[str, str]:
    """(interpreter, where it came from): --python, [tool.migrator] python, $VIRTUAL_ENV, <project>/.venv or venv,
    else migrator's own. `base`: the folder a relative configured path is taken from (the pyproject's)."""
    folder = Path(project_dir)
    if explicit:
        return _executable(explicit, "--python"), "--python"
    if configured:
        path = configured
        if os.sep in configured and not os.path.isabs(configured):
            path = str((base or folder) / configured)
        return _executable(path, "[tool.migrator] python"), "[tool.migrator] python"
    own_prefix = Path(sys.prefix).resolve()
    candidates: list[tuple[Path, str]] = []
    active = os.environ.get("VIRTUAL_ENV")
    if active and Path(active).resolve() != own_prefix:
        candidates.append((Path(active), "$VIRTUAL_ENV"))
    candidates += [(folder / ".venv", f"{folder.name or '.'}/.venv"), (folder / "venv", f"{folder.name or '.'}/venv")]
    for venv, source in candidates:
        for name in ("bin/python", "Scripts/python.exe"):
            python = venv / name
            if python.is_file() and os.access(python, os.X_OK):
                return str(python.absolute()), source
    return sys.executable, "migrator's own interpreter"


def _executable(python: str, source: str) -> str:
    if os.sep in python:
        path = os.path.abspath(os.path.expanduser(python))
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    else:
        found = shutil.which(python)
        if found:
            return found
    raise MigratorError(f"{source}: python interpreter {python!r} not found or not executable")


# --- the shim: migrator's light modules for apps that do not have migrator installed ------------------------------
def shim_dir() -> Path:
    """A folder holding only a `migrator` link to this package: appended to the child's sys.path when the app's
    interpreter cannot import migrator (revisions use migrator.backfill, apps migrator.startup). It lives in the
    user's cache folder, one per migrator installation, and is made again when missing."""
    package = Path(__file__).resolve().parents[1]
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    folder = cache / "migrator" / f"shim-{hashlib.sha256(str(package).encode()).hexdigest()[:16]}"
    link = folder / "migrator"
    try:
        if link.is_symlink() and link.resolve() == package:
            return folder
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".migrator-{os.getpid()}"
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(package, target_is_directory=True)
        os.replace(tmp, link)  # atomic: a parallel run sees the old link or the new one
    except OSError as exc:
        raise MigratorError(f"cannot prepare {folder} (migrator's modules for the app's interpreter): "
                            f"{exc.strerror or exc}") from None
    return folder


# --- the child ---------------------------------------------------------------------------------------------------
@dataclass
class Rendered:
    """One revision's offline SQL and where its statements come from."""

    revision: str
    path: str | None
    sql: str
    error: str | None = None
    in_transaction: bool = False
    version_table: str = "alembic_version"
    version_table_schema: str | None = None
    lines: list[tuple[int, int]] = field(default_factory=list)  # (offset in sql, line in the revision file)

    def source_line(self, sql_line: int) -> int | None:
        """The revision-file line of the op.* call that wrote the SQL at `sql_line` (1-based)."""
        if not self.lines:
            return None
        offset = _offset_of_line(self.sql, sql_line)
        found = None
        for at, line in self.lines:
            if at <= offset:
                found = line
            else:
                break
        return found if found is not None else self.lines[0][1]


def _offset_of_line(text: str, line: int) -> int:
    offset = 0
    for _ in range(max(0, line - 1)):
        nxt = text.find("\n", offset)
        if nxt < 0:
            return len(text)
        offset = nxt + 1
    return offset


@dataclass
class Revision:
    revision: str
    down: list[str]
    branch_labels: list[str]
    path: str | None
    is_branch_point: bool = False
    doc: str = ""


@dataclass
class History:
    heads: list[str]
    bases: list[str]
    revisions: dict[str, Revision]
    script_dir: str

    def ancestors(self, heads: Iterable[str]) -> set[str]:
        found: set[str] = set()
        stack = [h for h in heads if h]
        while stack:
            rev = stack.pop()
            if rev in found or rev not in self.revisions:
                continue
            found.add(rev)
            stack.extend(self.revisions[rev].down)
        return found

    def leaves(self, revisions: Sequence[str]) -> list[str]:
        """The revisions of the list that no other one of the list descends from."""
        covered: set[str] = set()
        for rev in revisions:
            covered |= self.ancestors(self.revisions[rev].down if rev in self.revisions else [])
        return [rev for rev in revisions if rev not in covered]


def _runner_env(app_env: Mapping[str, str]) -> dict[str, str]:
    """migrator's environment without its private variables, the app's on top, and what every child needs."""
    env = {k: v for k, v in os.environ.items() if k not in PRIVATE_ENV and not k.startswith("MIGRATOR_RUNNER")}
    env.update(app_env)
    env.update({RUNNER_ENV: "1", "MIGRATOR_RUNNER_PARENT": str(os.getpid()), "PYTHONUNBUFFERED": "1",
                "PYTHONDONTWRITEBYTECODE": env.get("PYTHONDONTWRITEBYTECODE", "1")})
    return env


class ProjectRunner:
    """A child process in the app's interpreter with the project loaded; see the module docstring."""

    def __init__(self, project_dir: str | Path, *, python: str | None = None, alembic_ini: str = "alembic.ini",
                 script_location: str | None = None, app: str | None = None, env: Mapping[str, str] | None = None,
                 role: str | None = None, echo=None, secrets: Iterable[str] = (), timeout: float | None = None):
        self.project_dir = Path(project_dir).resolve()
        self.python = python or sys.executable
        self.alembic_ini = alembic_ini
        self.script_location = script_location
        self.app = app
        self.env = dict(env or {})
        self.role = role
        self.echo = echo
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)
        self.timeout = timeout
        self.proc: subprocess.Popen | forks.ForkedProcess | None = None
        self.tail: deque[str] = deque(maxlen=TAIL_LINES)
        self._answers: queue.Queue = queue.Queue()
        self._history: History | None = None
        self._prefetched: list[str] = []  # requests sent ahead whose answers are still to be read
        self._spare: _Spare | None = None  # a warm child handed over by RunnerPool

    # -- life cycle ---------------------------------------------------------------------------------------------
    def __enter__(self) -> "ProjectRunner":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _child_env(self) -> dict[str, str]:
        env = _runner_env(self.env)
        env.update({"MIGRATOR_RUNNER_PROJECT": str(self.project_dir), "MIGRATOR_RUNNER_INI": str(self.alembic_ini),
                    "MIGRATOR_RUNNER_SHIM": str(shim_dir())})
        if self.script_location:
            env["MIGRATOR_RUNNER_SCRIPT_LOCATION"] = str(self.script_location)
        if self.app:
            env["MIGRATOR_RUNNER_APP"] = self.app
        return env

    def start(self, wait: bool = True) -> "ProjectRunner":
        """Spawn the child (or set up the spare RunnerPool handed over); with wait=False its "ready" answer is
        read with the first request's."""
        if self.proc is not None:
            if wait and self._prefetched[:1] == ["start"]:
                self._prefetched.pop(0)
                self._answer(START_TIMEOUT, "start")
            return self
        if not self.project_dir.is_dir():
            raise ProjectError(f"{self._who()}project folder {self.project_dir} does not exist", "config")
        env = self._child_env()
        spare, self._spare = self._spare, None
        adopted = spare is not None and spare.fits(self.python, env)
        if spare is not None and adopted:
            self.proc, spare.proc = spare.proc, None
        else:
            if spare is not None:
                spare.close()
            self.proc = forks.fork_child(self.python, env, _runner_env({}), CHILD)
            adopted = self.proc is not None
        if self.proc is None:
            try:
                self.proc = subprocess.Popen([self.python, str(CHILD)], cwd=self.project_dir, env=env,
                                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                             start_new_session=True)
            except OSError as exc:
                raise ProjectError(f"cannot start {self.python}: {exc.strerror or exc}", "config") from None
        threading.Thread(target=self._read_answers, daemon=True).start()
        threading.Thread(target=self._read_output, daemon=True).start()
        if adopted:  # a spare or a forked child: it gets its environment and folder now
            self._send("setup", {"env": env, "cwd": str(self.project_dir)})
        if wait:
            self._answer(START_TIMEOUT, "start")
        else:
            self._prefetched.append("start")
        return self

    def close(self) -> None:
        """Stop the child and everything it started (its process group). It holds nothing worth a graceful
        exit: its answers are in and its database work is committed or rolled back by the server."""
        proc, self.proc = self.proc, None
        self._prefetched.clear()
        if self._spare is not None:
            self._spare.close()
            self._spare = None
        if proc is None:
            return
        from migrator.provision import kill_group

        try:
            if proc.stdin is not None:
                proc.stdin.close()
        except (OSError, ValueError):
            pass
        kill_group(proc)

    def prefetch(self, op: str = "history") -> "ProjectRunner":
        """Start the child and send `op` without waiting: the app's imports happen while the caller works."""
        self.start(wait=False)
        self._send(op, {})
        self._prefetched.append(op)
        return self

    # -- I/O ----------------------------------------------------------------------------------------------------
    def _read_answers(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for raw in iter(self.proc.stdout.readline, b""):
            self._answers.put(raw)
        self._answers.put(None)

    def _read_output(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        for raw in iter(self.proc.stderr.readline, b""):
            line = self.scrub(raw.decode("utf-8", "replace").rstrip("\n"))
            self.tail.append(line)
            if self.echo is not None:
                try:
                    self.echo.write(line + "\n")
                    self.echo.flush()
                except (OSError, ValueError):
                    pass

    def scrub(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text

    def _who(self) -> str:
        return f"{self.role}: " if self.role else ""

    def _answer(self, timeout: float | None, what: str):
        try:
            raw = self._answers.get(timeout=timeout)
        except queue.Empty:
            self.close()
            raise ProjectError(f"{self._who()}{what} timed out after {timeout:g}s (in {self.python}); stopped it",
                               "timeout", timeout=timeout) from None
        if raw is None:
            code = self.proc.wait() if self.proc is not None else None
            time.sleep(0.05)  # let the output reader take the last lines
            last = self._last_error_line()
            self.proc = None
            reason = f": {last}" if last else ""
            raise ProjectError(f"{self._who()}the project's interpreter {self.python} exited (status {code}) during "
                               f"{what}{reason}", "crash")
        try:
            answer = json.loads(raw)
        except ValueError:
            raise ProjectError(f"{self._who()}garbled answer from the project's interpreter during {what}",
                               "crash") from None
        if answer.get("ok"):
            return answer.get("result")
        error = answer.get("error") or {}
        message = self.scrub(str(error.pop("message", "failed")))
        kind = error.pop("kind", "app")
        for key in ("statement", "traceback"):
            if isinstance(error.get(key), str):
                error[key] = self.scrub(error[key])
        raise ProjectError(f"{self._who()}{message}", kind, **error)

    def _last_error_line(self) -> str:
        lines = [ln.strip() for ln in self.tail if ln.strip()]
        for line in reversed(lines):
            if line.startswith(("ModuleNotFoundError", "ImportError", "SyntaxError")) or "Error:" in line:
                return line
        return lines[-1] if lines else ""

    def _send(self, op: str, params: dict) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        try:
            self.proc.stdin.write((json.dumps({"op": op, **params}) + "\n").encode("utf-8"))
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            pass  # the child is gone: _answer says why

    def call(self, op: str, timeout: float | None = None, **params):
        if self.proc is None:
            self.start()
        if params or op not in self._prefetched:
            while self._prefetched:  # answers come in order: take the ones sent ahead first
                pending = self._prefetched.pop(0)
                result = self._answer(START_TIMEOUT if pending == "start" else
                                      timeout if timeout is not None else self.timeout, pending)
                if pending == "history":
                    self._history = self._history or _history(result)
            self._send(op, params)
        else:
            while self._prefetched[0] != op:
                pending = self._prefetched.pop(0)
                self._answer(START_TIMEOUT if pending == "start" else self.timeout, pending)
            self._prefetched.pop(0)
        try:
            return self._answer(timeout if timeout is not None else self.timeout, op)
        except BaseException as exc:
            if not isinstance(exc, ProjectError):  # KeyboardInterrupt, SIGTERM: the child's work is abandoned
                self.close()
            raise

    # -- requests -----------------------------------------------------------------------------------------------
    def probe(self) -> dict:
        return self.call("probe")

    def history(self) -> History:
        if self._history is None:
            self._history = _history(self.call("history"))
        return self._history

    def heads(self) -> list[str]:
        return list(self.history().heads)

    def render(self, revision_range: str | None) -> list[Rendered]:
        data = self.call("render", range=revision_range)
        return [Rendered(r["revision"], r["path"], r["sql"], r["error"], bool(r["in_transaction"]),
                         r["version_table"], r["version_table_schema"], [tuple(x) for x in r["lines"]])
                for r in data["revisions"]]

    def render_bare(self, revision: str, version_table: str = "alembic_version",
                    version_table_schema: str | None = None) -> str:
        return self.call("render_bare", revision=revision, version_table=version_table,
                         version_table_schema=version_table_schema)["sql"]

    def upgrade(self, url: str, targets: Sequence[str]) -> list[str]:
        return list(self.call("upgrade", url=url, targets=list(targets))["applied"])

    def apply(self, url: str, revision: str, **params) -> dict:
        return self.call("apply", url=url, revision=revision, **params)


def _history(data: dict) -> History:
    revisions = {r["revision"]: Revision(r["revision"], list(r["down"]), list(r["branch_labels"]), r["path"],
                                         bool(r.get("is_branch_point")), r.get("doc") or "")
                 for r in data["revisions"]}
    return History(list(data["heads"]), list(data["bases"]), revisions, data["script_dir"])


WARM_MARK = "--warm"


class _Spare:
    """A child started before its project and environment are known: it imports alembic and SQLAlchemy (most
    of a child's start-up) while migrator sets up git worktrees and servers, then waits for its "setup"."""

    def __init__(self, python: str, cwd: Path, url_form: str | None = None) -> None:
        self.python = python
        self.env = _runner_env({})
        spawn_env = dict(self.env)
        if url_form:  # it also imports the driver this URL form names
            spawn_env[forks.PRELOAD] = f"{url_form}://"
        self.proc: subprocess.Popen | None = subprocess.Popen(
            [python, str(CHILD), WARM_MARK], cwd=cwd, env=spawn_env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, start_new_session=True)

    def fits(self, python: str, env: Mapping[str, str]) -> bool:
        if self.proc is None or self.proc.poll() is not None or python != self.python:
            return False
        return forks.spawn_settings(env) == forks.spawn_settings(self.env)  # what acts only at an interpreter's start

    def close(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None:
            from migrator.provision import kill_group

            kill_group(proc)


class RunnerPool:
    """One ProjectRunner per (interpreter, folder, environment, alembic settings); all closed together.
    `warm(n)` starts n spare children ahead; the next runners started take them."""

    def __init__(self, **defaults) -> None:
        self.defaults = defaults
        self.runners: dict[str, ProjectRunner] = {}
        self.spares: list[_Spare] = []

    def warm(self, count: int, cwd: str | Path, url_form: str | None = None) -> None:
        """`url_form`: the scheme of the URL the app will be given ("postgresql+psycopg"), to import its driver."""
        python = self.defaults.get("python") or sys.executable
        base = _runner_env({})
        if forks.warm(python, base, base, CHILD, url_form):
            return  # the children are forked from the server started now, as they are needed
        for _ in range(count):
            try:
                self.spares.append(_Spare(python, Path(cwd), url_form))
            except OSError:
                return  # start() reports a missing interpreter when it is needed

    def __enter__(self) -> "RunnerPool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def get(self, project_dir: str | Path, **options) -> ProjectRunner:
        settings = {**self.defaults, **options}
        key = hashlib.sha256(json.dumps([str(Path(project_dir).resolve()), {k: v for k, v in settings.items()
                                         if k not in ("echo", "secrets", "role")}], sort_keys=True,
                                        default=str).encode()).hexdigest()
        runner = self.runners.get(key)
        if runner is None:
            runner = ProjectRunner(project_dir, **settings)
            if self.spares:
                runner._spare = self.spares.pop(0)
            self.runners[key] = runner
        return runner

    def close(self) -> None:
        for runner in self.runners.values():
            runner.close()
        self.runners.clear()
        for spare in self.spares:
            spare.close()
        self.spares.clear()
