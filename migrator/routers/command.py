"""The `command` router hook: run a program per call, payload on stdin, facts in BG_* env vars.

    [tool.migrator.hook]
    kind = "command"
    command = ["./router.sh", "--env", "prod"]   # or a string, split like a shell would (but run without one)
    timeout = "300s"          # one attempt; the whole process group is killed after it
    deadline = "1h"           # one phase (switch + verify polling)
    poll_interval = "1s"      # between in-progress answers without retry_after_s
    env = ["ROUTER_STATE"]    # variables passed on besides BG_* and PATH, HOME, LANG, LC_*, TZ, TMPDIR, USER

Exit 0 = succeeded, 75 = in progress (poll again), anything else = failed. Stdout may carry one JSON response
object (bg-hook/v1); the more cautious of exit code and response status wins. Stderr passes through to ours.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from migrator.durations import seconds_of
from migrator.errors import ConfigError
from migrator.routers.base import WHERE, OneCallRouter, check_keys, targets_of, timings
from migrator.routers.protocol import (
    DEFAULT_DEADLINE, DEFAULT_POLL_INTERVAL, DEFAULT_TIMEOUT, EXIT_IN_PROGRESS, EXIT_SUCCEEDED, FAILED,
    IN_PROGRESS, SUCCEEDED, HookPayload, HookResponse, ResponseError, utcnow, worse)

MAX_STDOUT = 1 << 20  # bytes of stdout kept; a response is a small JSON object
_REAP_POLL = 0.01
_STDOUT_GRACE = 2.0  # seconds to wait for stdout EOF after the hook exited


def seconds(value, key: str, where: str = "[tool.migrator.hook]") -> float:
    return seconds_of(value, key, where)


class CommandHook(OneCallRouter):
    """A router hook that runs `command` once per call (see the module docstring)."""

    kind = "command"
    KEYS = {"kind", "command", "timeout", "deadline", "poll_interval", "targets", "env"}

    def __init__(self, command, *, timeout: float = DEFAULT_TIMEOUT, deadline: float = DEFAULT_DEADLINE,
                 poll_interval: float = DEFAULT_POLL_INTERVAL, cwd=None, targets: dict | None = None,
                 name: str | None = None, env: list[str] | tuple[str, ...] = ()):
        if isinstance(command, str):
            command = shlex.split(command)
        if not command or not all(isinstance(a, str) and a for a in command):
            raise ConfigError("[tool.migrator.hook]: command must be a non-empty list of strings or a string")
        self.command = list(command)
        self.timeout = float(timeout)
        self.deadline = float(deadline)
        self.poll_interval = float(poll_interval)
        self.cwd = str(cwd) if cwd is not None else None
        self.targets = dict(targets or {})
        self.name = name or f"command {Path(self.command[0]).name}"
        self.env_names = tuple(env)

    @classmethod
    def from_config(cls, config: dict, *, project_dir=None) -> "CommandHook":
        where = WHERE
        check_keys(config, cls.KEYS, "command")
        if "command" not in config:
            raise ConfigError(f'{where}: kind = "command" needs command = ["./router.sh", ...]')
        command = config["command"]
        if not isinstance(command, (str, list)):
            raise ConfigError(f"{where}: command must be a list of strings or a string")
        targets = targets_of(config)
        kwargs: dict[str, Any] = timings(config)
        if kwargs.get("timeout", 1) <= 0:
            raise ConfigError(f"{where}: timeout must be > 0")
        return cls(command, cwd=project_dir, targets=targets, env=env_names(config.get("env", [])), **kwargs)

    def call_router(self, payload: HookPayload) -> HookResponse:
        return self.run(payload)

    # -- one attempt ------------------------------------------------------------------------------
    def run(self, payload: HookPayload) -> HookResponse:
        """Run the command once. Never raises: every problem is a failed response with a clear message."""
        if not payload.targets and self.targets:
            payload = _with_targets(payload, self.targets)
        timeout = self.timeout
        if payload.deadline is not None:
            timeout = min(timeout, max(0.0, (payload.deadline - utcnow()).total_seconds()))
        if timeout <= 0:
            return HookResponse.failed(f"hook {self.name}: deadline passed before {payload.action} could run")
        env = hook_environment(os.environ, self.env_names)
        env.update(payload.env())
        data = payload.to_json().encode()
        try:
            proc = subprocess.Popen(self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=None,
                                    cwd=self.cwd, env=env, start_new_session=True)
        except OSError as exc:
            return HookResponse.failed(f"hook {self.name}: cannot run {self.command[0]!r}: {exc.strerror or exc}")

        out = bytearray()
        reader = threading.Thread(target=_read, args=(proc.stdout, out), daemon=True)
        writer = threading.Thread(target=_write, args=(proc.stdin, data), daemon=True)
        reader.start()
        writer.start()
        try:
            timed_out = not _wait_exit(proc.pid, timeout)
        except BaseException:  # Ctrl-C / SIGTERM in migrator: a hook left running could move traffic later
            _kill_group(proc.pid)
            proc.wait()
            raise
        # the leader has exited (or is about to be killed) but is not reaped yet: its pid still names the
        # process group, so killing the group cannot hit an unrelated process. Nothing of the hook outlives it.
        _kill_group(proc.pid)
        proc.wait()
        reader.join(_STDOUT_GRACE)
        writer.join(0.1)
        stdout = bytes(out)

        if timed_out:
            return HookResponse.failed(f"hook {self.name}: {payload.action} timed out after {round(timeout, 3):g}s "
                                       "(process group killed)")
        code = proc.returncode
        status = SUCCEEDED if code == EXIT_SUCCEEDED else IN_PROGRESS if code == EXIT_IN_PROGRESS else FAILED
        text = stdout.decode("utf-8", errors="replace").strip()
        if not text:
            message = None if status != FAILED else f"hook {self.name}: {payload.action} {_exit_text(code)}"
            return HookResponse(status, message)
        try:
            decoded = json.loads(text)
            response = HookResponse.from_dict(decoded, default_status=status)
        except (ValueError, ResponseError) as exc:
            return HookResponse.failed(
                f"hook {self.name}: {payload.action} {_exit_text(code)} but stdout is not a bg-hook/v1 response "
                f"({_short(exc)}): {_short(text)!r} (stdout is reserved for one JSON object; log to stderr)")
        response.status = worse(response.status, status)
        if response.status == FAILED and status == FAILED and not response.message:
            response.message = f"hook {self.name}: {payload.action} {_exit_text(code)}"
        return response


#: what a command hook inherits from migrator's environment, besides the BG_* variables and `env = [...]`:
#: never MIGRATOR_DATABASE_URL, PGPASSWORD, a webhook secret or a cloud credential
ALLOWED_ENV = ("PATH", "HOME", "LANG", "LC_*", "TZ", "TMPDIR", "USER")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\*?")


def env_names(value) -> tuple[str, ...]:
    """`[tool.migrator.hook] env`: a list of variable names, or prefixes ending in `*` (e.g. "ACME_*")."""
    where = "[tool.migrator.hook]"
    if not isinstance(value, list) or not all(isinstance(v, str) and _ENV_NAME.fullmatch(v) for v in value):
        raise ConfigError(f"{where}: env must be a list of environment variable names to pass to the hook "
                          f'(a trailing * matches a prefix), e.g. env = ["ROUTER_STATE", "ACME_*"]; got {value!r}')
    return tuple(value)


def hook_environment(environ, names: tuple[str, ...] = ()) -> dict[str, str]:
    """The variables of `environ` a hook may see: ALLOWED_ENV and `names` (exact, or prefixes ending in *)."""
    exact = {n for n in (*ALLOWED_ENV, *names) if not n.endswith("*")}
    prefixes = tuple(n[:-1] for n in (*ALLOWED_ENV, *names) if n.endswith("*"))
    return {k: v for k, v in environ.items() if k in exact or (prefixes and k.startswith(prefixes))}


def _with_targets(payload: HookPayload, targets: dict) -> HookPayload:
    from dataclasses import replace

    return replace(payload, targets=dict(targets))


def _wait_exit(pid: int, timeout: float) -> bool:
    """Wait until `pid` exits, without reaping it (WNOWAIT). False when `timeout` passed first."""
    end = time.monotonic() + timeout
    while True:
        try:
            info = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return True
        if info is not None:
            return True
        if time.monotonic() >= end:
            return False
        time.sleep(min(_REAP_POLL, max(0.0, end - time.monotonic())))


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _read(stream, out: bytearray) -> None:
    try:
        while chunk := stream.read1(65536):
            if len(out) < MAX_STDOUT:
                out.extend(chunk[: MAX_STDOUT - len(out)])
    except (OSError, ValueError):
        pass
    finally:
        try:
            stream.close()
        except OSError:
            pass


def _write(stream, data: bytes) -> None:
    try:
        stream.write(data)
    except (BrokenPipeError, OSError, ValueError):  # the hook need not read its stdin
        pass
    finally:
        try:
            stream.close()
        except (BrokenPipeError, OSError):
            pass


def _exit_text(code: int) -> str:
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with {code}"


def _short(value, limit: int = 200) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
