"""The outcome of `migrator compat`, and the evidence file the switch gate trusts."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

EVIDENCE_VERSION = 2
CELL_RESULTS = ("pass", "fail", "error", "inconclusive")


@dataclass
class Cell:
    """One suite run: an app version's own suite on one schema ("blue/expanded", "green/contracted", ...)."""

    app: str  # blue | green
    schema: str  # expanded | contracted
    result: str = "error"  # pass | fail | error | inconclusive
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    deselected: int = 0
    total: int = 0
    duration: float = 0.0
    failures: list[dict] = field(default_factory=list)  # {"test", "error", "attribution"}
    reason: str | None = None
    fingerprint_before: str | None = None
    fingerprint_after: str | None = None
    started: float = 0.0  # seconds into the check when the suite started (cells may run side by side)

    @property
    def name(self) -> str:
        return f"{self.app}/{self.schema}"

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in (
            "app", "schema", "result", "passed", "failed", "errors", "skipped", "deselected", "total", "duration",
            "reason", "failures", "fingerprint_before", "fingerprint_after", "started")}


SuiteRun = Cell  # the name before cells


@dataclass
class CompatResult:
    result: str = "error"  # pass | fail | refused | inconclusive | error
    reason: str | None = None
    blue_ref: str = ""
    blue_sha: str = ""
    green_ref: str | None = None  # None: the working tree
    green_sha: str = ""
    green_dirty: bool = False
    project_dir: str = "."
    revisions: dict = field(default_factory=dict)
    schemas: dict = field(default_factory=lambda: {"blue": None, "expanded": None, "contracted": None})
    cells: list[Cell] = field(default_factory=list)
    required_cells: list[str] = field(default_factory=list)
    provider: str | None = None
    postgres_version: int | None = None
    duration: float = 0.0
    timestamp: str = ""
    advice: list[str] = field(default_factory=list)  # what to do about it (text output only)

    @property
    def fingerprint(self) -> str | None:
        """The expanded schema's fingerprint: the one the switch gate compares with the live database."""
        return self.schemas.get("expanded")

    @fingerprint.setter
    def fingerprint(self, value: str | None) -> None:
        self.schemas["expanded"] = value

    @property
    def suites(self) -> list[Cell]:
        return self.cells

    def cell(self, app: str, schema: str) -> Cell | None:
        return next((c for c in self.cells if (c.app, c.schema) == (app, schema)), None)

    @property
    def exit_code(self) -> int:
        return {"pass": 0, "fail": 1, "refused": 1}.get(self.result, 2)

    def to_dict(self) -> dict:
        from migrator import __version__

        return {
            "version": EVIDENCE_VERSION,
            "kind": "migrator.compat",
            "result": self.result,
            "reason": self.reason,
            "blue": {"ref": self.blue_ref, "sha": self.blue_sha},
            "green": {"ref": self.green_ref, "sha": self.green_sha, "dirty": self.green_dirty},
            "project_dir": self.project_dir,
            "revisions": self.revisions,
            "schemas": dict(self.schemas),
            "cells": [c.to_dict() for c in self.cells],
            "required_cells": list(self.required_cells),
            "provider": self.provider,
            "postgres_version": self.postgres_version,
            "duration_seconds": round(self.duration, 3),
            "timestamp": self.timestamp,
            "migrator_version": __version__,
        }


def write_evidence(result: CompatResult, path: Path) -> None:
    """Write atomically: a reader never sees half a file, and a failed write keeps the old one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.dumps(result.to_dict(), indent=2, sort_keys=False) + "\n"
    fd, tmp = tempfile.mkstemp(prefix=".evidence-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_evidence(path: Path) -> dict:
    from migrator.errors import InputError

    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("evidence file not found", str(path)) from None
    except (OSError, ValueError) as exc:
        raise InputError(f"unreadable evidence file: {exc}", str(path)) from None
    if not isinstance(data, dict) or data.get("kind") != "migrator.compat" or data.get("version") != EVIDENCE_VERSION:
        raise InputError(f"not a migrator compat evidence file (version {EVIDENCE_VERSION})", str(path))
    return data
