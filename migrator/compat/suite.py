"""Run an app's own pytest suite in a subprocess and read its verdict from JUnit XML.

    result = run_suite(blue_dir, "compat_tests", sys.executable, {"DATABASE_URL": url}, timeout=600)
    result.total, result.failed, result.failures    # [(nodeid, first error line), ...]

One interpreter start: `python -m pytest <suite> -p no:cacheprovider --junitxml=<tmp> -q` from `workdir`,
with the app's own pytest configuration (no addopts override), in its own process group so that a
timeout, Ctrl-C or SIGTERM here ends pytest and everything it started. Its output is streamed to
`stream` (stderr by default: stdout is for results) and the last lines are kept for the report.
"""

from __future__ import annotations

import os
import re
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple, Protocol

from migrator.compat.errors import SuiteError
from migrator.provision import kill_group

TAIL_LINES = 200
MESSAGE_CHARS = 300
KILL_GRACE = 2.0  # seconds between SIGTERM and SIGKILL for the process group
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_NO_PYTEST = re.compile(r"No module named pytest\b|No module named '?pytest'?$", re.M)


_LIVE: set[subprocess.Popen] = set()  # pytest processes running now, in any thread
_LIVE_LOCK = threading.Lock()


def stop_all(grace: float = 2.0) -> None:
    """Kill every suite still running (their whole process groups): for the main thread when it is interrupted
    while suites run in other threads."""
    with _LIVE_LOCK:
        procs = list(_LIVE)
    for proc in procs:
        kill_group(proc, grace)


class Failure(NamedTuple):
    nodeid: str  # path/to/test_file.py::Class::test_name[param]
    line: str  # the first meaningful line of the failure or error


@dataclass
class SuiteResult:
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    total: int = 0  # tests run (passed + failed + errors + skipped); 0 when none was collected
    failures: list[Failure] = field(default_factory=list)  # failed and errored tests, in run order
    logs: dict[str, str] = field(default_factory=dict)  # node id -> what a failing test printed and logged
    exit_code: int | None = None  # pytest's (negative: killed by that signal)
    duration: float = 0.0  # wall time of the pytest process
    killed: bool = False  # pytest did not finish: timeout, or a signal from outside
    killed_reason: str | None = None  # "timed out after 600s" | "SIGKILL" | ...
    timed_out: bool = False
    signal: str | None = None  # name of the signal that ended pytest, if any
    collection_error: str | None = None  # first line of the first collection / usage error
    junit_path: Path | None = None  # kept only when the caller gave one
    output_tail: list[str] = field(default_factory=list)  # last TAIL_LINES lines of pytest's output
    command: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Every test ran and none failed, and at least one test ran (no tests is no evidence)."""
        return (not self.killed and self.collection_error is None and self.exit_code == 0 and self.total > 0
                and not self.failed and not self.errors)


class TextStream(Protocol):
    """Where pytest's output goes: sys.stderr, or anything with write() and flush()."""

    def write(self, text: str, /) -> object: ...

    def flush(self) -> object: ...


def run_suite(workdir, suite: str | Path | Sequence[str | Path] = "compat_tests", python: str | None = None,
              env: Mapping[str, str] | None = None, timeout: float | None = None, *,
              args: Sequence[str] = (), junit_path: str | Path | None = None,
              stream: TextStream | None = sys.stderr, inherit_env: bool = True,
              scrub: Callable[[str], str] | None = None) -> SuiteResult:
    """Run `python -m pytest <suite>` in `workdir` with `env` added to ours (or alone: inherit_env=False).

    `suite`: path(s) relative to `workdir` (pytest node ids "path::test" allowed). `timeout`: seconds, then
    the process group is killed (result.killed, result.timed_out). `args`: extra pytest arguments.
    `stream`: where pytest's output goes (None: nowhere). Raises SuiteError before running when `workdir`,
    the suite or the interpreter is missing, or when pytest is not installed for `python`. KeyboardInterrupt
    and SystemExit (SIGTERM) kill the group and propagate.
    """
    workdir = Path(workdir)
    if not workdir.is_dir():
        raise SuiteError(f"suite folder {str(workdir)!r} does not exist")
    suites = [str(suite)] if isinstance(suite, (str, Path)) else [str(s) for s in suite]
    if not suites:
        raise SuiteError("no test suite given")
    for item in suites:
        path = item.split("::", 1)[0]
        if not (workdir / path).exists():
            raise SuiteError(f"test suite {path!r} not found in {str(workdir)!r}")
    python = str(python or sys.executable)
    if os.sep in python:  # a path: relative to our cwd (where the user typed it), not to workdir
        python = os.path.abspath(python)
        resolved = python if os.path.isfile(python) and os.access(python, os.X_OK) else None
    else:  # a command name: looked up on PATH
        resolved = shutil.which(python)
    if not resolved:
        raise SuiteError(f"python interpreter {python!r} not found or not executable")

    tmpdir = None
    if junit_path is None:
        tmpdir = tempfile.mkdtemp(prefix="migrator_junit_")
        junit = Path(tmpdir) / "junit.xml"
    else:
        junit = Path(junit_path).resolve()
        junit.unlink(missing_ok=True)
    command = [resolved, "-m", "pytest", *suites, "-p", "no:cacheprovider", f"--junitxml={junit}",
               "-o", "junit_logging=all", "-q", *args]
    if stream is not None and _isatty(stream):
        command.append("--color=yes")
    full_env = {**os.environ, **(env or {})} if inherit_env else dict(env or {})
    try:
        result = _run(command, workdir, full_env, timeout, stream, scrub)
        result.command = command
        _read_junit(result, junit, workdir)
        _conclude(result, junit, python, workdir)
        result.junit_path = junit if junit_path is not None and junit.exists() else None
        return result
    finally:
        if tmpdir is not None:
            shutil.rmtree(tmpdir, ignore_errors=True)


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _run(command: list[str], workdir: Path, env: dict[str, str], timeout: float | None, stream,
         scrub: Callable[[str], str] | None = None) -> SuiteResult:
    result = SuiteResult()
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    started = time.monotonic()
    deadline = None if timeout is None else started + timeout
    try:
        proc = subprocess.Popen(command, cwd=workdir, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, start_new_session=True)
    except OSError as exc:
        raise SuiteError(f"cannot start {command[0]!r}: {exc.strerror or exc}") from None
    assert proc.stdout is not None  # stdout=PIPE
    with _LIVE_LOCK:
        _LIVE.add(proc)
    try:
        if not _pump(proc, tail, stream, deadline, scrub):
            _time_out(proc, result, timeout)
    except BaseException:  # KeyboardInterrupt, SignalExit (SIGTERM), anything: leave nothing running
        from migrator.provision import signals_deferred

        with signals_deferred():  # a second Ctrl-C must not cut the cleanup short
            kill_group(proc, KILL_GRACE)
        raise
    finally:
        proc.stdout.close()
        with _LIVE_LOCK:
            _LIVE.discard(proc)
    result.duration = time.monotonic() - started
    kill_group(proc)  # whatever the tests left running in the background
    result.exit_code = proc.returncode
    result.output_tail = [_ANSI.sub("", line) for line in tail]
    if proc.returncode < 0:
        result.signal = _signal_name(-proc.returncode)
        if not result.killed:
            result.killed, result.killed_reason = True, f"killed by {result.signal}"
    return result


def _time_out(proc: subprocess.Popen, result: SuiteResult, timeout: float | None) -> None:
    result.killed = result.timed_out = True
    result.killed_reason = f"timed out after {timeout:g}s"
    kill_group(proc, KILL_GRACE)


def _pump(proc: subprocess.Popen, tail: deque, stream, deadline: float | None, scrub=None) -> bool:
    """Copy pytest's output to `stream` and `tail` until pytest has exited and its output ended (or, when
    something it started keeps the pipe open, 0.5 s after it exited). False: the deadline passed first."""
    assert proc.stdout is not None, "pytest's output is piped"
    fd = proc.stdout.fileno()
    partial, exited_at, eof = b"", None, False
    try:
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while True:
                now = time.monotonic()
                if proc.poll() is not None:
                    exited_at = exited_at or now
                    if eof or now - exited_at > 0.5:
                        return True
                if deadline is not None and now >= deadline:
                    return False
                wait = 0.25 if deadline is None else min(0.25, deadline - now)
                if eof:
                    time.sleep(min(wait, 0.01))  # output closed, pytest still exiting
                    continue
                if sel.select(wait):
                    chunk = os.read(fd, 65536)
                    if chunk:
                        partial = _emit(partial + chunk, tail, stream, scrub)
                    else:
                        eof = True
    finally:
        if partial:
            _emit(partial + b"\n", tail, stream, scrub)


def _emit(data: bytes, tail: deque, stream, scrub=None) -> bytes:
    """Write the complete lines of `data` (through `scrub`, which hides secrets); return the incomplete rest."""
    *lines, rest = data.split(b"\n")
    if lines:
        text = b"\n".join(lines).decode("utf-8", "replace")
        if scrub is not None:
            text = scrub(text)
        if stream is not None:
            try:
                stream.write(text + "\n")
                stream.flush()
            except (OSError, ValueError):
                pass
        tail.extend(text.split("\n"))
    return rest


def _signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


# -- JUnit XML ---------------------------------------------------------------------------------------
def _read_junit(result: SuiteResult, junit: Path, workdir: Path) -> None:
    import xml.etree.ElementTree as ET

    try:
        root = ET.parse(junit).getroot()
    except (OSError, ET.ParseError):
        return
    resolver = _NodeIds(workdir)
    outcomes: dict[str, str] = {}  # node id -> outcome; a test failing in call and teardown has two <testcase>s
    for case in root.iter("testcase"):
        failure, error, skipped = case.find("failure"), case.find("error"), case.find("skipped")
        classname, name = case.get("classname", ""), case.get("name", "")
        if error is not None and not classname and error.get("message", "") == "collection failure":
            module, line = resolver.module(name), _first_line(error)
            if result.collection_error is None:
                result.collection_error = f"{module}: {line}"
            result.failures.append(Failure(module, line))
            continue
        nodeid = resolver.nodeid(classname, name)
        outcome = ("failed" if failure is not None else "errors" if error is not None
                   else "skipped" if skipped is not None else "passed")
        previous = outcomes.get(nodeid)
        if previous is None or _RANK[outcome] > _RANK[previous]:
            outcomes[nodeid] = outcome
        bad = failure if failure is not None else error
        if bad is not None and previous not in ("failed", "errors"):
            captured = "\n".join((part.text or "") for tag in ("system-out", "system-err") for part in case.iter(tag))
            result.failures.append(Failure(nodeid, _first_line(bad)))
            result.logs[nodeid] = captured[-20000:]
    for outcome in outcomes.values():
        setattr(result, outcome, getattr(result, outcome) + 1)
    result.total = len(outcomes)


_RANK = {"passed": 0, "skipped": 1, "errors": 2, "failed": 3}
_PHASE = re.compile(r'^failed on (?:setup|teardown|call) with "(.*)"?$', re.S)


def _first_line(element) -> str:
    """The first meaningful line: the message attribute (pytest's short crash message, unwrapped from
    'failed on setup with "..."'), else the first `E   ...` line of the traceback, else the first line."""
    message = (element.get("message") or "").strip()
    if message == "collection failure":
        message = ""
    match = _PHASE.match(message)
    if match:
        message = match.group(1).rstrip('"')
    text = element.text or ""
    lines = ([line for line in message.splitlines() if line.strip()]
             or [line[1:] for line in text.splitlines() if line.startswith("E ") and line[1:].strip()]
             or [line for line in text.splitlines() if line.strip()])
    line = " ".join(lines[0].split()) if lines else "(no message)"
    return line if len(line) <= MESSAGE_CHARS else line[: MESSAGE_CHARS - 3] + "..."


class _NodeIds:
    """JUnit's classname "pkg.sub.test_mod.TestClass" + name -> pytest node id "pkg/sub/test_mod.py::TestClass::name".

    The dotted path is ambiguous (dots in folder names, classes): the longest prefix naming an existing .py
    file under the rootdir candidates (workdir and its parents) wins; otherwise lower-case parts are the path.
    """

    def __init__(self, workdir: Path):
        self.roots = [workdir, *list(workdir.resolve().parents)[:3]]
        self._cache: dict[str, tuple[str, list[str]]] = {}

    def _split(self, dotted: str) -> tuple[str, list[str]]:
        if dotted in self._cache:
            return self._cache[dotted]
        parts = dotted.split(".") if dotted else []
        found = None
        for k in range(len(parts), 0, -1):
            rel = "/".join(parts[:k]) + ".py"
            if any((root / rel).is_file() for root in self.roots):
                found = (rel, parts[k:])
                break
        if found is None:
            k = len(parts)
            while k > 1 and parts[k - 1][:1].isupper():
                k -= 1
            found = ("/".join(parts[:k]) + ".py" if parts else "", parts[k:])
        self._cache[dotted] = found
        return found

    def nodeid(self, classname: str, name: str) -> str:
        path, classes = self._split(classname)
        return "::".join([p for p in (path, *classes) if p] + [name])

    def module(self, dotted: str) -> str:
        path, rest = self._split(dotted)
        return "::".join([path, *rest]) if path else dotted


def _conclude(result: SuiteResult, junit: Path, python: str, workdir: Path) -> None:
    """What the exit code says beyond the XML: usage / internal errors, no report at all, no pytest."""
    if result.killed:
        return
    code = result.exit_code
    if not junit.exists():
        if code == 1 and _NO_PYTEST.search("\n".join(result.output_tail)):
            raise SuiteError(f"pytest is not installed for {python} (install it in that environment or pass --python)")
        if code not in (0, 5) and result.collection_error is None:
            result.collection_error = _error_line(result.output_tail, workdir) or f"pytest exited with {code}"
        return
    if code in (2, 3, 4) and result.collection_error is None:
        result.collection_error = _error_line(result.output_tail, workdir) or f"pytest exited with {code}"


_CONFTEST = re.compile(r"ImportError while loading conftest '(.+)'")
_EXCEPTION = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt|Warning)\b")


def _error_line(lines: list[str], workdir: Path) -> str:
    """The most telling line of pytest's own output (no report to read): the exception of a conftest that
    failed to import, an `ERROR:` line, the last exception line, else the last line that is not a rule."""
    where = ""
    for line in lines:
        match = _CONFTEST.search(line)
        if match:
            path = Path(match.group(1))
            where = f"{path.relative_to(workdir.resolve()) if path.is_relative_to(workdir.resolve()) else path}: "
            break
    e_lines = [" ".join(line[1:].split()) for line in lines if line.startswith("E ")]
    exceptions = [line for line in e_lines if _EXCEPTION.match(line)]
    errors = [" ".join(line.split()) for line in lines if line.startswith(("ERROR:", "INTERNALERROR>"))]
    if where and (exceptions or e_lines):
        found = where + (exceptions or e_lines)[-1]
    elif errors:
        found = errors[0].removeprefix("ERROR: ")
    elif exceptions or e_lines:
        found = (exceptions or e_lines)[-1]
    else:
        rest = [line for line in lines if line.strip() and not set(line.strip()) <= set("=-_ ")]
        found = " ".join(rest[-1].split()) if rest else ""
    return found if len(found) <= MESSAGE_CHARS else found[: MESSAGE_CHARS - 3] + "..."
