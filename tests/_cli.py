"""Run the `migrator` command as a user or CI would: in this process by default, or as a real process.

`run(...)` calls the console entry point (migrator.cli.main) in this process with exactly what a child process
would get: argv, the environment (a child's environment REPLACES os.environ: here os.environ is set to exactly
that mapping and restored afterwards), the working directory, stdin, separate stdout and stderr (bytes decoded as
a child's would be), Python's default warning filters, no logging handlers but the command's own, the signal
handlers, sys.path and the modules the command imported from the project. Everything is restored afterwards.

`run(..., process=True)` spawns the real console script instead: for tests where a real process matters (signals,
exit codes of a killed process, a child's file descriptors, other interpreters, timing, the executable itself).
MIGRATOR_TEST_CLI=process makes every run() spawn (to check that both ways agree).
"""

from __future__ import annotations

import io
import os
import shutil
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

TIMEOUT = 60  # seconds: a hang is a failure, not a stuck test run
ALWAYS_SPAWN = os.environ.get("MIGRATOR_TEST_CLI", "").strip().lower() == "process"


def outer_env(*prefixes: str, drop: tuple[str, ...] = ()) -> dict[str, str]:
    """os.environ for a process a test starts, without the variables that start with `prefixes` or are in `drop`.
    PYTEST_ADDOPTS stays: it carries tests/conftest.py's NO_HYPOTHESIS to the suites that process runs."""
    return {k: v for k, v in os.environ.items()
            if (not k.startswith(prefixes) or k == "PYTEST_ADDOPTS") and k not in drop}


def migrator_command() -> list[str]:
    """The installed console script next to this interpreter, else `python -m migrator.cli`."""
    script = Path(sys.executable).with_name("migrator")
    if script.is_file():
        return [str(script)]
    found = shutil.which("migrator")
    if found and Path(found).resolve().parent == Path(sys.executable).resolve().parent:
        return [found]
    return [sys.executable, "-m", "migrator.cli"]


@dataclass
class Result:
    code: int
    out: str
    err: str


def child_environment(env: dict | None = None) -> dict[str, str]:
    """The environment run() gives the command: ours, without colour or debug switches, plus `env`."""
    environment = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "MIGRATOR_DEBUG")}
    environment["NO_COLOR"] = "1"
    environment.update(env or {})
    return environment


def run(*args: str, cwd: Path | str | None = None, stdin: str | bytes | None = None, env: dict | None = None,
        process: bool = False) -> Result:
    environment = child_environment(env)
    data = stdin.encode() if isinstance(stdin, str) else stdin
    if process or ALWAYS_SPAWN or threading.current_thread() is not threading.main_thread():
        # (commands run side by side from threads are processes: they really run at the same time)
        proc = subprocess.run([*migrator_command(), *args], cwd=cwd, input=data if data is not None else b"",
                              capture_output=True, timeout=TIMEOUT, env=environment)
        return Result(proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace"))
    return _in_process(list(args), cwd, data or b"", environment)


_ONE_AT_A_TIME = threading.Lock()  # os.environ, cwd and sys.std* belong to the whole process


class _OwnThreads:
    """sys.stdout / sys.stderr during a run: what the command's threads write is captured; what threads that
    were already running write (another test's server, say) goes where it went before, as it would from
    another process."""

    def __init__(self, capture, original, foreign: set[int]):
        self._capture, self._original, self._foreign = capture, original, foreign

    def _target(self):
        return self._original if threading.get_ident() in self._foreign else self._capture

    def write(self, text):
        return self._target().write(text)

    def writelines(self, lines):
        return self._target().writelines(lines)

    def flush(self):
        return self._target().flush()

    def __getattr__(self, name):
        return getattr(self._capture, name)


_SIGNALS = [s for s in (getattr(signal, n, None) for n in ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1",
                                                            "SIGUSR2", "SIGALRM", "SIGCHLD", "SIGPIPE")) if s]


def _in_process(args: list[str], cwd, data: bytes, environment: dict[str, str]) -> Result:
    import gc
    import logging
    import warnings

    from migrator import cli

    with _ONE_AT_A_TIME:
        saved_environ = dict(os.environ)
        saved_cwd = os.getcwd()
        saved_streams = (sys.stdin, sys.stdout, sys.stderr)
        saved_argv, saved_path = sys.argv[:], sys.path[:]
        saved_modules = set(sys.modules)
        saved_signals = {s: signal.getsignal(s) for s in _SIGNALS}
        loggers = [logging.root] + [lg for lg in logging.root.manager.loggerDict.values()
                                    if isinstance(lg, logging.Logger)]
        saved_loggers = {lg: (lg.handlers[:], lg.level, lg.propagate, lg.disabled) for lg in loggers}
        saved_manager_disable = logging.root.manager.disable
        out, err = io.BytesIO(), io.BytesIO()
        streams = (io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"),
                   io.TextIOWrapper(out, encoding="utf-8", write_through=True),
                   io.TextIOWrapper(err, encoding="utf-8", errors="backslashreplace", write_through=True))
        code: int = 0
        try:
            os.environ.clear()
            os.environ.update(environment)
            if cwd is not None:
                os.chdir(cwd)
            sys.argv = ["migrator", *args]
            foreign = {t.ident for t in threading.enumerate() if t is not threading.current_thread() and t.ident}
            sys.stdin = streams[0]
            sys.stdout = _OwnThreads(streams[1], saved_streams[1], foreign)  # type: ignore[assignment]
            sys.stderr = _OwnThreads(streams[2], saved_streams[2], foreign)  # type: ignore[assignment]
            logging.root.handlers = []  # a fresh interpreter's root logger: no handler (pytest's capture is one)
            logging.root.setLevel(logging.WARNING)
            with warnings.catch_warnings():
                warnings.resetwarnings()  # a fresh interpreter's default filters, shown on its stderr
                warnings.filterwarnings("default", category=DeprecationWarning, module="__main__")
                for category in (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning):
                    warnings.filterwarnings("ignore", category=category)
                warnings.showwarning = warnings._showwarning_orig  # type: ignore[attr-defined]
                try:
                    cli.main(args)
                except SystemExit as exc:
                    code = exc.code & 0xFF if isinstance(exc.code, int) else (0 if exc.code is None else 1)
                    if exc.code is not None and not isinstance(exc.code, int):
                        sys.stderr.write(f"{exc.code}\n")
                except Exception:  # what the interpreter does with an exception nobody caught
                    import traceback

                    traceback.print_exc(file=sys.stderr)
                    code = 1
                finally:
                    gc.unfreeze()  # main() freezes what is left for a fast exit; here the process lives on
        finally:
            for stream in streams:
                try:
                    stream.flush()
                    stream.detach()  # the buffers outlive the wrappers (a closed wrapper closes its buffer)
                except ValueError:  # the command closed or detached it itself
                    pass
            sys.stdin, sys.stdout, sys.stderr = saved_streams
            sys.argv, sys.path[:] = saved_argv, saved_path
            os.chdir(saved_cwd)
            os.environ.clear()
            os.environ.update(saved_environ)
            for s, handler in saved_signals.items():
                signal.signal(s, handler if handler is not None else signal.SIG_DFL)
            for lg, (handlers, level, propagate, disabled) in saved_loggers.items():
                lg.handlers, lg.level, lg.propagate, lg.disabled = handlers, level, propagate, disabled
            for lg in logging.root.manager.loggerDict.values():  # loggers the command made: as a new process's
                if isinstance(lg, logging.Logger) and lg not in saved_loggers:
                    lg.handlers = []
            logging.root.manager.disable = saved_manager_disable
            logging.root.manager._clear_cache()  # type: ignore[attr-defined]
            for name in set(sys.modules) - saved_modules:  # the project's own modules (app code, env.py, plug-ins)
                file = getattr(sys.modules[name], "__file__", None) or ""
                if file and not os.path.realpath(file).startswith(_INSTALLED):
                    del sys.modules[name]
        result = Result(code, out.getvalue().decode("utf-8", "replace"), err.getvalue().decode("utf-8", "replace"))
    return result


# modules of this interpreter and of migrator itself stay imported; any other module a command imported goes
_INSTALLED = tuple(os.path.realpath(p) + os.sep for p in {sys.prefix, sys.base_prefix, sys.exec_prefix}
                   | {str(Path(__file__).resolve().parents[1] / "migrator")})


def assert_one_line_error(result: Result, *, code: int = 2, contains: str | None = None) -> str:
    """Exit `code`, and stderr is one line starting `migrator:`, with no traceback."""
    assert "Traceback" not in result.err, result.err
    assert "internal error" not in result.err, result.err
    assert result.code == code, (result.code, result.err, result.out[:500])
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("migrator: "), lines[0]
    if contains is not None:
        assert contains.lower() in lines[0].lower(), lines[0]
    return lines[0]
