"""The outcome of `migrator compat`, and the evidence file (migrator.evidence, version 2) it writes."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from migrator.evidence import (
    CELL_RESULTS, EVIDENCE_VERSION, REVISION_KEYS, Cell, Evidence, GreenRef, Ref, Schemas, Signature, signing_key)
from migrator.evidence import write_evidence as _write

__all__ = ["CELL_RESULTS", "EVIDENCE_VERSION", "Cell", "CompatResult", "SuiteRun", "write_evidence"]

SuiteRun = Cell  # the name before cells


@dataclass
class CompatResult:
    result: str = "error"  # pass | fail | refused | inconclusive | error (error: no evidence is written)
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
    reasons: list[str] = field(default_factory=list)  # each reason of a fail / inconclusive verdict (text output)
    signature: Signature | None = None  # set when the evidence written was signed

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

    def to_evidence(self) -> Evidence:
        from migrator import __version__

        return Evidence(
            result=self.result, reason=self.reason,
            blue=Ref(self.blue_ref, self.blue_sha),
            green=GreenRef(self.green_ref, self.green_sha, self.green_dirty),
            project_dir=str(self.project_dir),
            revisions={k: list(self.revisions.get(k) or []) for k in REVISION_KEYS},
            schemas=Schemas(self.schemas.get("blue"), self.schemas.get("expanded"), self.schemas.get("contracted")),
            cells=list(self.cells), required_cells=list(self.required_cells),
            provider=self.provider, postgres_version=self.postgres_version,
            duration_seconds=round(self.duration, 3), timestamp=self.timestamp, migrator_version=__version__,
            signature=self.signature)

    def to_dict(self) -> dict:
        """The JSON report (`--format json`): the evidence document, also for results no evidence is written for."""
        return self.to_evidence().to_dict()


def write_evidence(result: CompatResult, path: Path, key_env: str | None = None) -> None:
    """Write the evidence atomically, signed with the key of $MIGRATOR_EVIDENCE_KEY (or of `key_env`) when set."""
    result.signature = None
    result.signature = _write(result.to_evidence(), path, key=signing_key(key_env)).signature
