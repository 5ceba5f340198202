"""The options every release command shares, declared once.

Each field is one command-line option: its flags and help text sit in the field's metadata, and migrator.cli turns
the fields into typer options (`@release_options(...)`). Adding an option: one field here (and its line in
docs/cli.md); every command of the field's group takes it. Kept free of heavy imports: `--help` builds from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

# the groups a command picks from (migrator.cli: @release_options("target", "ddl", ...))
GROUPS = ("target", "database", "alembic", "release", "wait", "ddl", "soak", "gate", "reason")


def _option(default: Any, group: str, *flags: str, help: str, metavar: str | None = None) -> Any:
    return field(default=default, metadata={"group": group, "flags": flags, "help": help, "metavar": metavar})


@dataclass
class ReleaseOptions:
    """The shared options of plan, expand, migrate, switch, rollback, contract, status, gate, serve and fleet."""

    project_dir: str = _option(".", "target", "--project-dir", help="Green's checkout: the folder holding alembic.ini.")
    config: Optional[str] = _option(None, "target", "--config", help="pyproject.toml holding [tool.migrator].")
    ledger_schema: Optional[str] = _option(None, "target", "--ledger-schema",
                                           help="Schema of migrator's ledger [default: migrator].")
    database_url: Optional[str] = _option(None, "database", "--database-url",
                                          help="Target database, SQLAlchemy-style URL [env: MIGRATOR_DATABASE_URL].")
    alembic_config: Optional[str] = _option(
        None, "alembic", "--alembic-config", "-c",
        help="alembic.ini in the project folder [default: alembic_config of [tool.migrator], else alembic.ini].")
    release: Optional[str] = _option(None, "release", "--release",
                                     help="Release id [default: the release in flight].")
    wait: float = _option(0.0, "wait", "--wait", metavar="SECONDS",
                          help="Wait this long for another migrator command on the database to finish (0: exit 2 "
                               "at once).")
    lock_timeout: Optional[str] = _option(None, "ddl", "--lock-timeout",
                                          help="lock_timeout of every DDL session, e.g. 500ms (at least 1ms).")
    statement_timeout: Optional[str] = _option(None, "ddl", "--statement-timeout",
                                               help="statement_timeout of DDL sessions (0 = none).")
    lock_retries: Optional[int] = _option(None, "ddl", "--lock-retries",
                                          help="Retries after a lock timeout, per revision.")
    no_lock_timeout: bool = _option(False, "ddl", "--no-lock-timeout",
                                    help="Run the DDL without a lock timeout (waits forever; needs --reason, "
                                         "recorded in the ledger).")
    soak: Optional[str] = _option(None, "soak", "--soak", help="Time on green before contract, e.g. 15m (0 allowed).")
    blue_application_name: Optional[str] = _option(
        None, "soak", "--blue-application-name",
        help="application_name of blue's sessions: contract waits until none is left.")
    force: bool = _option(False, "gate", "--force",
                          help="Go past a refusing gate (needs --reason; both go into the ledger).")
    reason: Optional[str] = _option(None, "reason", "--reason",
                                    help="Why: recorded in the ledger (required with --force and --no-lock-timeout).")

    # the flags that override [tool.migrator.release] (migrator.release.settings)
    SETTINGS = ("lock_timeout", "statement_timeout", "lock_retries", "soak", "blue_application_name",
                "ledger_schema", "no_lock_timeout")

    def overrides(self) -> dict[str, Any]:
        """The settings given on the command line (unset ones come from [tool.migrator.release])."""
        values = {name: getattr(self, name) for name in self.SETTINGS}
        values["no_lock_timeout"] = values["no_lock_timeout"] or None
        return {k: v for k, v in values.items() if v is not None}

    def context(self, **command: Any):
        """A migrator.release.commands.ReleaseContext for these options plus the command's own (blue, evidence...)."""
        from migrator.release.commands import ReleaseContext

        evidence = command.pop("evidence", None)
        return ReleaseContext(
            database_url=self.database_url, project_dir=Path(self.project_dir), alembic_ini=self.alembic_config,
            config_path=Path(self.config) if self.config else None, overrides=self.overrides(),
            release_id=self.release, force=self.force, reason=self.reason, wait=self.wait,
            evidence=Path(evidence) if evidence else None, **command)
