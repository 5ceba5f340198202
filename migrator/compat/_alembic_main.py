"""`alembic upgrade` for `migrator compat`, run in a fresh interpreter by migrator.compat.apply.upgrade.

    MIGRATOR_ALEMBIC_INI=alembic.ini MIGRATOR_ALEMBIC_TARGET=0004 MIGRATOR_ALEMBIC_URL=postgresql+psycopg://... \
    MIGRATOR_ALEMBIC_RESULT=/tmp/result.json  python -P .../migrator/compat/_alembic_main.py

Run by path with -P (nothing prepended to sys.path): the project's cwd may hold a `migrator/` folder of
its own (blue's checkout of migrator's repository), and `-m` would also import migrator.compat's
__init__ for nothing.

Everything comes through the environment (argv is visible to `ps`); the four variables are removed
before the project's env.py runs. The URL is set as `sqlalchemy.url` on alembic's Config. The target is
one revision id, `heads`, or several ids separated by spaces (upgraded one after the other). The result
is one JSON object written to the MIGRATOR_ALEMBIC_RESULT file (else as the last line of stderr):
`{"ok": true, "applied": [...]}` or `{"ok": false, "revision": "0004" | null, "error": "first line",
"statement": "..." | null}`. Exit status 0 on success, 1 on failure. Never prints the URL.

Kept light on purpose: imports nothing from migrator but this module (python start + alembic + env.py
is the whole cost).
"""

from __future__ import annotations

import json
import os
import sys

INI, TARGET = "MIGRATOR_ALEMBIC_INI", "MIGRATOR_ALEMBIC_TARGET"
URL, RESULT = "MIGRATOR_ALEMBIC_URL", "MIGRATOR_ALEMBIC_RESULT"
PRIVATE = (INI, TARGET, URL, RESULT)


def first_line(exc: BaseException) -> str:
    """`SyntaxError: syntax error at or near "SELEC"` for a DBAPI error, else `Type: first line`."""
    orig = getattr(exc, "orig", None)  # sqlalchemy.exc.DBAPIError wraps the driver's exception
    if isinstance(orig, BaseException):
        exc = orig
    text = str(exc).strip()
    line = (text.splitlines() or [""])[0].strip()
    return f"{type(exc).__name__}: {line}" if line else type(exc).__name__


def failed_statement(exc: BaseException) -> str | None:
    statement = getattr(exc, "statement", None)  # sqlalchemy.exc.StatementError
    if not isinstance(statement, str):
        return None
    statement = " ".join(statement.split())
    return statement if len(statement) <= 300 else statement[:297] + "..."


def run_upgrade(ini: str, targets: list[str], url: str | None, state: dict) -> None:
    """Upgrade to each target in turn. `state["revision"]` names the revision running when it raises,
    `state["applied"]` lists the revisions whose upgrade() returned."""
    from alembic.config import Config
    from alembic.runtime.environment import EnvironmentContext
    from alembic.script import ScriptDirectory

    cfg = Config(ini)
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))  # configparser interpolation
    script = ScriptDirectory.from_config(cfg)
    state.setdefault("applied", [])
    state.setdefault("revision", None)

    def tracked(step):
        fn, ident = step.migration_fn, step.revision.revision

        def upgrade(*args, **kwargs):
            state["revision"] = ident
            result = fn(*args, **kwargs)
            state["applied"].append(ident)
            return result

        step.migration_fn = upgrade
        return step

    for target in targets:
        def upgrade(rev, context, target=target):
            return [tracked(step) for step in script._upgrade_revs(target, rev)]

        with EnvironmentContext(cfg, script, fn=upgrade, as_sql=False, starting_rev=None, destination_rev=target):
            script.run_env()
    state["revision"] = None


def _report(path: str | None, result: dict) -> None:
    text = json.dumps(result)
    if path:
        try:
            with open(path, "w", encoding="utf-8") as out:
                out.write(text)
            return
        except OSError:
            pass
    sys.stderr.flush()
    print(text, file=sys.stderr, flush=True)


def main() -> int:
    ini = os.environ.pop(INI, "alembic.ini")
    targets = os.environ.pop(TARGET, "heads").split() or ["heads"]
    url = os.environ.pop(URL, None)
    result_path = os.environ.pop(RESULT, None)
    state: dict = {"revision": None, "applied": []}
    try:
        run_upgrade(ini, targets, url, state)
    except BaseException as exc:  # noqa: BLE001 - the parent decides; KeyboardInterrupt included
        _report(result_path, {"ok": False, "revision": state["revision"], "error": first_line(exc),
                              "statement": failed_statement(exc), "applied": state["applied"]})
        if isinstance(exc, KeyboardInterrupt):
            return 130
        return 1
    _report(result_path, {"ok": True, "applied": state["applied"]})
    return 0


if __name__ == "__main__":
    sys.exit(main())
