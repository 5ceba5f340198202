"""Compat evidence documents (format version 2) for tests, as `migrator compat` writes them: every field present,
counts consistent. Tests change one thing at a time (forge, mistype, drop a cell) and check that it is caught."""

from __future__ import annotations

import copy
import json
from pathlib import Path

BLUE_SHA, GREEN_SHA = "b1" * 20, "9e" * 20
BLUE_PRINT, EXPANDED_PRINT, CONTRACTED_PRINT = "b" * 64, "e" * 64, "c" * 64
KEY = b"test-evidence-key-0123456789abcdef"
ALL_CELLS = ("blue/expanded", "green/expanded", "green/contracted")


def cell(name: str = "blue/expanded", result: str = "pass", passed: int = 7, failed: int = 0, errors: int = 0,
         skipped: int = 0, **extra) -> dict:
    app, schema = name.split("/")
    out = {"app": app, "schema": schema, "result": result, "passed": passed, "failed": failed, "errors": errors,
           "skipped": skipped, "deselected": 0, "total": passed + failed + errors + skipped, "duration": 0.8,
           "reason": None if result == "pass" else f"{failed + errors} of {passed + failed + errors} tests failed",
           "failures": [{"test": f"compat_tests/test_x.py::test_{i}", "error": "AssertionError", "attribution": None}
                        for i in range(failed + errors)],
           "fingerprint_before": None, "fingerprint_after": None, "started": 0.0}
    out.update(extra)
    return out


def document(*, blue_sha: str = BLUE_SHA, green_sha: str = GREEN_SHA, blue: str | None = BLUE_PRINT,
             expanded: str | None = EXPANDED_PRINT, contracted: str | None = CONTRACTED_PRINT,
             cells: tuple[str, ...] | list = ALL_CELLS, result: str = "pass", **extra) -> dict:
    """A passing evidence document; `cells` names the passing cells to include (or gives cell dicts)."""
    cell_docs = [cell(c) if isinstance(c, str) else c for c in cells]
    doc = {"version": 2, "kind": "migrator.compat", "result": result, "reason": None,
           "blue": {"ref": "blue", "sha": blue_sha}, "green": {"ref": None, "sha": green_sha, "dirty": False},
           "project_dir": ".",
           "revisions": {"blue_heads": ["0002"], "none": [], "expand": ["0003"], "migrate": ["0004"],
                         "held_back": ["0005"]},
           "schemas": {"blue": blue, "expanded": expanded, "contracted": contracted},
           "cells": cell_docs, "required_cells": [c["app"] + "/" + c["schema"] for c in cell_docs],
           "provider": "url", "postgres_version": 150019, "duration_seconds": 3.2,
           "timestamp": "2026-12-04T10:00:00+00:00", "migrator_version": "0.1.0", "signature": None}
    doc.update(extra)
    return doc


def evidence(**kwargs):
    """document(...) as a validated migrator.evidence.Evidence."""
    from migrator.evidence import Evidence

    return Evidence.from_dict(document(**kwargs))


def write(path: Path, doc: dict, *, key: bytes | None = None) -> Path:
    """Write `doc` as a file: signed through migrator's writer when `key` is given, else byte for byte as given
    (so that a forged or mistyped document reaches the reader unchanged)."""
    from migrator.evidence import Evidence, write_evidence

    if key is not None:
        write_evidence(Evidence.from_dict(doc), path, key=key)
    else:
        Path(path).write_text(json.dumps(doc, indent=2), encoding="utf-8")
    return Path(path)


def changed(doc: dict, dotted: str, value) -> dict:
    """A deep copy of `doc` with the field at `dotted` ("cells.1.failed", "schemas.expanded") set to `value`."""
    out = copy.deepcopy(doc)
    *path, last = dotted.split(".")
    target = out
    for part in path:
        target = target[int(part)] if isinstance(target, list) else target[part]
    if isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value
    return out
