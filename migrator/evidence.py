"""The compat evidence file, format version 2: one typed model, strict loading, HMAC signing, one summary.

`migrator compat --evidence FILE` writes it; the gates (expand, switch, contract), `status`, the ledger and the
router hooks read it only through this module:

    evidence = load_evidence("compat.json")           # every field validated; EvidenceError (exit 2) otherwise
    evidence.cell("blue", "expanded").problems()       # [] when that cell proves something
    evidence.verify(signing_key())                     # Verification("verified" | "unsigned" | "unverified" | "bad")
    evidence.summary()                                 # what the ledger's events, hooks and status show

Signing: HMAC-SHA256 over the canonical form (the document without `signature`, JSON with sorted keys and no
whitespace, UTF-8). The key comes only from an environment variable ($MIGRATOR_EVIDENCE_KEY, or the one the
config names); `key_id` (the first 16 hex digits of sha256(key)) names the key without revealing it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import os
import re
import stat
import tempfile
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Literal, overload

from migrator.errors import ConfigError, InputError
from migrator.files import file_kind, stat_or

EVIDENCE_VERSION = 2
KIND = "migrator.compat"
MAX_EVIDENCE_BYTES = 1024 * 1024  # a real evidence file is a few KiB; anything near this is not one
KEY_ENV = "MIGRATOR_EVIDENCE_KEY"
MIN_KEY_CHARS = 16
ALGORITHM = "hmac-sha256"

RESULTS = ("pass", "fail", "refused", "inconclusive")
CELL_RESULTS = ("pass", "fail", "error", "inconclusive")
APPS = ("blue", "green")
SCHEMAS = ("expanded", "contracted")
CELL_NAMES = tuple(f"{app}/{schema}" for app in APPS for schema in SCHEMAS)
ATTRIBUTIONS = ("incompatible", "own-schema")
REVISION_KEYS = ("blue_heads", "none", "expand", "migrate", "held_back")

_SHA = re.compile(r"[0-9a-f]{40}")
_FINGERPRINT = re.compile(r"[0-9a-f]{64}")
_KEY_ID = re.compile(r"[0-9a-f]{16}")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class EvidenceError(InputError):
    """The evidence file cannot be used: unreadable, not JSON, a field of the wrong type or value (exit 2)."""


# --- field readers: each names the field path in its one-line error ------------------------------------------------


def _show(value) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    text = json.dumps(value, ensure_ascii=True)
    return text if len(text) <= 60 else text[:57] + "..."


def _bad(where: str, expected: str, value) -> EvidenceError:
    return EvidenceError(f"{where}: expected {expected}, got {_show(value)}")


def _at(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _object(value, where: str, keys: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict:
    if not isinstance(value, dict):
        raise _bad(where or "evidence", "an object", value)
    unknown = sorted(set(value) - set(keys) - set(optional))
    if unknown:
        raise EvidenceError(f"{_at(where, unknown[0])}: unknown key (evidence version {EVIDENCE_VERSION} has no "
                            "such field)")
    for key in keys:
        if key not in value:
            raise EvidenceError(f"{_at(where, key)}: missing")
    return value


# `null=True` readers may return None; the overloads tell mypy the others never do.
@overload
def _str(value, where: str, *, null: Literal[False] = False, empty: bool = True) -> str: ...
@overload
def _str(value, where: str, *, null: bool, empty: bool = True) -> str | None: ...
def _str(value, where: str, *, null: bool = False, empty: bool = True) -> str | None:
    if value is None and null:
        return None
    if not isinstance(value, str) or (not empty and not value):
        raise _bad(where, ("a non-empty string" if not empty else "a string") + (" or null" if null else ""), value)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise EvidenceError(f"{where}: not valid Unicode (a lone surrogate escape)") from None
    return value


@overload
def _count(value, where: str, *, null: Literal[False] = False) -> int: ...
@overload
def _count(value, where: str, *, null: bool) -> int | None: ...
def _count(value, where: str, *, null: bool = False) -> int | None:
    if value is None and null:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _bad(where, "a non-negative integer" + (" or null" if null else ""), value)
    return value


def _seconds(value, where: str) -> int | float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise _bad(where, "a non-negative number of seconds", value)
    return value


def _bool(value, where: str) -> bool:
    if not isinstance(value, bool):
        raise _bad(where, "true or false", value)
    return value


@overload
def _choice(value, where: str, choices: tuple[str, ...], *, null: Literal[False] = False) -> str: ...
@overload
def _choice(value, where: str, choices: tuple[str, ...], *, null: bool) -> str | None: ...
def _choice(value, where: str, choices: tuple[str, ...], *, null: bool = False) -> str | None:
    if value is None and null:
        return None
    if not isinstance(value, str) or value not in choices:
        names = " or ".join(f'"{c}"' for c in choices) + (" or null" if null else "")
        raise _bad(where, f"one of {names}" if len(choices) > 2 else names, value)
    return value


@overload
def _hex(value, where: str, pattern: re.Pattern, what: str, *, null: Literal[False] = False) -> str: ...
@overload
def _hex(value, where: str, pattern: re.Pattern, what: str, *, null: bool) -> str | None: ...
def _hex(value, where: str, pattern: re.Pattern, what: str, *, null: bool = False) -> str | None:
    if value is None and null:
        return None
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise _bad(where, what + (" or null" if null else ""), value)
    return value


def _sha(value, where: str) -> str:
    return _hex(value, where, _SHA, "40 lowercase hex digits (a full git commit sha)")


def _fingerprint(value, where: str, *, null: bool = False) -> str | None:
    return _hex(value, where, _FINGERPRINT, "64 lowercase hex digits (a schema fingerprint)", null=null)


def _list(value, where: str) -> list:
    if not isinstance(value, list):
        raise _bad(where, "an array", value)
    return value


def _names(value, where: str) -> list[str]:
    return [_str(item, f"{where}[{i}]", empty=False) for i, item in enumerate(_list(value, where))]


# --- the model -----------------------------------------------------------------------------------------------------


def _failure(data, where: str) -> dict:
    """{"test": node id, "error": its first line, "attribution": "incompatible" | "own-schema" | null}"""
    _object(data, where, ("test", "error", "attribution"))
    return {"test": _str(data["test"], f"{where}.test"), "error": _str(data["error"], f"{where}.error"),
            "attribution": _choice(data["attribution"], f"{where}.attribution", ATTRIBUTIONS, null=True)}


@dataclass
class Cell:
    """One suite run: `app`'s suite (at its own commit) on the `schema` database."""

    app: str  # blue | green
    schema: str  # expanded | contracted
    result: str = "error"  # pass | fail | error | inconclusive
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    deselected: int = 0
    total: int = 0  # passed + failed + errors + skipped (deselected tests did not run)
    duration: float = 0.0  # seconds, the pytest process
    reason: str | None = None
    failures: list[dict] = field(default_factory=list)  # {"test", "error", "attribution"} (see _failure)
    fingerprint_before: str | None = None  # the cell database's schema before and after the suite
    fingerprint_after: str | None = None
    started: float = 0.0  # seconds into the check when the suite started (cells run side by side)

    def __post_init__(self):
        for failure in self.failures:  # the runner attributes failures later, if at all
            failure.setdefault("attribution", None)

    @property
    def name(self) -> str:
        return f"{self.app}/{self.schema}"

    def problems(self) -> list[str]:
        """Why this cell proves nothing ([] when it proves its schema works for its app): its own result is
        pass, at least one test passed, none failed or errored. Recomputed from the counts, never trusted."""
        out = []
        if self.result != "pass":
            out.append(f"result {self.result}" + (f" ({self.reason})" if self.reason else ""))
        if self.passed < 1:
            out.append("no test passed (no tests is no evidence)")
        if self.failed or self.errors:
            out.append(f"{self.failed} failed, {self.errors} errors")
        return out

    def to_dict(self) -> dict:
        return {"app": self.app, "schema": self.schema, "result": self.result, "passed": self.passed,
                "failed": self.failed, "errors": self.errors, "skipped": self.skipped, "deselected": self.deselected,
                "total": self.total, "duration": self.duration, "reason": self.reason,
                "failures": [dict(f) for f in self.failures], "fingerprint_before": self.fingerprint_before,
                "fingerprint_after": self.fingerprint_after, "started": self.started}

    @classmethod
    def from_dict(cls, data, where: str) -> "Cell":
        _object(data, where, ("app", "schema", "result", "passed", "failed", "errors", "skipped", "deselected",
                              "total", "duration", "reason", "failures", "fingerprint_before", "fingerprint_after",
                              "started"))
        counts = {k: _count(data[k], f"{where}.{k}") for k in ("passed", "failed", "errors", "skipped",
                                                               "deselected", "total")}
        ran = counts["passed"] + counts["failed"] + counts["errors"] + counts["skipped"]
        if counts["total"] != ran:
            raise EvidenceError(f"{where}.total: {counts['total']} is not passed + failed + errors + skipped "
                                f"({ran})")
        failures = [_failure(f, f"{where}.failures[{i}]")
                    for i, f in enumerate(_list(data["failures"], f"{where}.failures"))]
        return cls(app=_choice(data["app"], f"{where}.app", APPS),
                   schema=_choice(data["schema"], f"{where}.schema", SCHEMAS),
                   result=_choice(data["result"], f"{where}.result", CELL_RESULTS),
                   duration=_seconds(data["duration"], f"{where}.duration"),
                   reason=_str(data["reason"], f"{where}.reason", null=True), failures=failures,
                   fingerprint_before=_fingerprint(data["fingerprint_before"], f"{where}.fingerprint_before",
                                                   null=True),
                   fingerprint_after=_fingerprint(data["fingerprint_after"], f"{where}.fingerprint_after", null=True),
                   started=_seconds(data["started"], f"{where}.started"), **counts)


@dataclass
class Ref:
    ref: str | None  # as given (tag, branch, sha); green: None for the working tree
    sha: str  # full commit sha


@dataclass
class GreenRef(Ref):
    dirty: bool = False  # uncommitted changes under the project folder


@dataclass
class Schemas:
    blue: str | None = None  # blue's schema, as its own revisions build it
    expanded: str | None = None  # after green's expand and migrate revisions (null: never built, e.g. refused)
    contracted: str | None = None  # after green's held-back contract revisions too

    def to_dict(self) -> dict:
        return {"blue": self.blue, "expanded": self.expanded, "contracted": self.contracted}


@dataclass
class Signature:
    key_id: str
    value: str
    algorithm: str = ALGORITHM

    def to_dict(self) -> dict:
        return {"algorithm": self.algorithm, "key_id": self.key_id, "value": self.value}


@dataclass
class Verification:
    status: str  # verified | unsigned | unverified (signed, no key here) | bad
    key_id: str | None  # the key the file says it was signed with
    detail: str

    @property
    def verified(self) -> bool:
        return self.status == "verified"


@dataclass
class Evidence:
    result: str  # pass | fail | refused | inconclusive: what compat concluded (gates recompute it)
    blue: Ref
    green: GreenRef
    timestamp: str  # ISO 8601, with a UTC offset
    migrator_version: str
    reason: str | None = None
    project_dir: str = "."
    revisions: dict[str, list[str]] = field(default_factory=lambda: {k: [] for k in REVISION_KEYS})
    schemas: Schemas = field(default_factory=Schemas)
    cells: list[Cell] = field(default_factory=list)
    required_cells: list[str] = field(default_factory=list)
    provider: str | None = None
    postgres_version: int | None = None
    duration_seconds: float = 0.0
    signature: Signature | None = None

    def cell(self, app: str, schema: str) -> Cell | None:
        return next((c for c in self.cells if c.app == app and c.schema == schema), None)

    # -- the document ----------------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {
            "version": EVIDENCE_VERSION, "kind": KIND, "result": self.result, "reason": self.reason,
            "blue": {"ref": self.blue.ref, "sha": self.blue.sha},
            "green": {"ref": self.green.ref, "sha": self.green.sha, "dirty": self.green.dirty},
            "project_dir": self.project_dir,
            "revisions": {k: list(self.revisions.get(k) or []) for k in REVISION_KEYS},
            "schemas": self.schemas.to_dict(),
            "cells": [c.to_dict() for c in self.cells],
            "required_cells": list(self.required_cells),
            "provider": self.provider, "postgres_version": self.postgres_version,
            "duration_seconds": self.duration_seconds, "timestamp": self.timestamp,
            "migrator_version": self.migrator_version,
            "signature": self.signature.to_dict() if self.signature else None,
        }

    @classmethod
    def from_dict(cls, data) -> "Evidence":
        """Validate a decoded document; EvidenceError names the first bad field (one line)."""
        if not isinstance(data, dict):
            raise _bad("evidence", "a JSON object", data)
        if data.get("kind") != KIND:
            raise EvidenceError(f"not a migrator compat evidence file (kind is {_show(data.get('kind'))}, expected "
                                f'"{KIND}")')
        version = data.get("version")
        if version == 1:
            raise EvidenceError("evidence version 1 is from an older migrator: rerun `migrator compat`")
        if version != EVIDENCE_VERSION:
            raise EvidenceError(f"version: evidence version {_show(version)} is not supported (this migrator "
                                f"reads version {EVIDENCE_VERSION})")
        _object(data, "", ("version", "kind", "result", "reason", "blue", "green", "project_dir", "revisions",
                           "schemas", "cells", "required_cells", "provider", "postgres_version", "duration_seconds",
                           "timestamp", "migrator_version"), optional=("signature",))
        blue = _object(data["blue"], "blue", ("ref", "sha"))
        green = _object(data["green"], "green", ("ref", "sha", "dirty"))
        revisions = _object(data["revisions"], "revisions", REVISION_KEYS)
        schemas = _object(data["schemas"], "schemas", ("blue", "expanded", "contracted"))
        cells = [Cell.from_dict(c, f"cells[{i}]") for i, c in enumerate(_list(data["cells"], "cells"))]
        seen: set[str] = set()
        for i, c in enumerate(cells):
            if c.name in seen:
                raise EvidenceError(f"cells[{i}]: a second {c.name} cell")
            seen.add(c.name)
        required = _list(data["required_cells"], "required_cells")
        for i, name in enumerate(required):
            _choice(name, f"required_cells[{i}]", CELL_NAMES)
        if len(set(required)) != len(required):
            raise EvidenceError("required_cells: a cell is named twice")
        signed, signature = data.get("signature"), None
        if signed is not None:
            _object(signed, "signature", ("algorithm", "key_id", "value"))
            signature = Signature(
                algorithm=_choice(signed["algorithm"], "signature.algorithm", (ALGORITHM,)),
                key_id=_hex(signed["key_id"], "signature.key_id", _KEY_ID, "16 lowercase hex digits"),
                value=_hex(signed["value"], "signature.value", _FINGERPRINT, "64 lowercase hex digits"))
        timestamp = _str(data["timestamp"], "timestamp", empty=False)
        try:
            moment = datetime.fromisoformat(timestamp)
        except ValueError:
            raise _bad("timestamp", "an ISO 8601 time", timestamp) from None
        if moment.tzinfo is None:
            raise _bad("timestamp", "an ISO 8601 time with a UTC offset", timestamp)
        return cls(
            result=_choice(data["result"], "result", RESULTS),
            reason=_str(data["reason"], "reason", null=True),
            blue=Ref(_str(blue["ref"], "blue.ref", empty=False), _sha(blue["sha"], "blue.sha")),
            green=GreenRef(_str(green["ref"], "green.ref", null=True, empty=False), _sha(green["sha"], "green.sha"),
                           _bool(green["dirty"], "green.dirty")),
            project_dir=_str(data["project_dir"], "project_dir", empty=False),
            revisions={k: _names(revisions[k], f"revisions.{k}") for k in REVISION_KEYS},
            schemas=Schemas(*(_fingerprint(schemas[k], f"schemas.{k}", null=True)
                              for k in ("blue", "expanded", "contracted"))),
            cells=cells, required_cells=list(required),
            provider=_str(data["provider"], "provider", null=True, empty=False),
            postgres_version=_count(data["postgres_version"], "postgres_version", null=True),
            duration_seconds=_seconds(data["duration_seconds"], "duration_seconds"),
            timestamp=timestamp,
            migrator_version=_str(data["migrator_version"], "migrator_version", empty=False),
            signature=signature)

    # -- signing and identity --------------------------------------------------------------------------------
    def canonical(self) -> bytes:
        """What the signature covers: the document without `signature`."""
        document = self.to_dict()
        document.pop("signature")
        return _canonical(document)

    def digest(self) -> str:
        """sha256 of the whole document in canonical form, signature included: names this exact file."""
        return hashlib.sha256(_canonical(self.to_dict())).hexdigest()

    def signed(self, key: bytes) -> "Evidence":
        return replace(self, signature=Signature(key_id(key), _mac(key, self.canonical())))

    def verify(self, key: bytes | None) -> Verification:
        """Does the signature hold for `key`? Never raises; the gates decide what each status means."""
        sig = self.signature
        if sig is None:
            return Verification("unsigned", None, "the evidence is not signed")
        if key is None:
            return Verification("unverified", sig.key_id, f"signed with key {sig.key_id}, but no key is set here "
                                                          "to verify it")
        ours = key_id(key)
        if not hmac.compare_digest(sig.key_id, ours):
            return Verification("bad", sig.key_id, f"signed with key {sig.key_id}, but the key set here is "
                                                   f"{ours}")
        if not hmac.compare_digest(sig.value, _mac(key, self.canonical())):
            return Verification("bad", sig.key_id, f"the signature (key {sig.key_id}) does not match the content: "
                                                   "the file was changed after it was signed")
        return Verification("verified", sig.key_id, f"signed with key {sig.key_id}, signature verified")

    # -- what others see -------------------------------------------------------------------------------------
    def summary(self) -> dict:
        """The one short form: ledger events, hook payloads, `status`, render. No paths, no failure details."""
        return {
            "result": self.result, "reason": self.reason,
            "blue_sha": self.blue.sha, "green_sha": self.green.sha, "green_dirty": self.green.dirty,
            "schemas": self.schemas.to_dict(),
            "cells": [{"cell": c.name, "result": c.result, "passed": c.passed, "failed": c.failed,
                       "errors": c.errors, "skipped": c.skipped, "total": c.total} for c in self.cells],
            "timestamp": self.timestamp,
            "key_id": self.signature.key_id if self.signature else None,
            "digest": self.digest(),
        }


def _canonical(document: dict) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _mac(key: bytes, message: bytes) -> str:
    return hmac.new(key, message, hashlib.sha256).hexdigest()


# --- keys ----------------------------------------------------------------------------------------------------------


def key_id(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:16]


def check_key_env_name(name, where: str) -> str:
    if not isinstance(name, str) or not _ENV_NAME.fullmatch(name):
        raise ConfigError(f"{where}: evidence_key_env = {name!r}: expected the name of an environment variable")
    return name


def signing_key(env_name: str | None = None, environ=None) -> bytes | None:
    """The evidence key from $MIGRATOR_EVIDENCE_KEY, or from the variable `env_name` (config's evidence_key_env).
    None when the variable is unset or empty; ConfigError (exit 2) when it is too short to be a key."""
    name = env_name or KEY_ENV
    value = (os.environ if environ is None else environ).get(name) or ""
    if not value:
        return None
    if len(value) < MIN_KEY_CHARS:
        raise ConfigError(f"${name} is too short to be an evidence key ({len(value)} characters): use at least "
                          f"{MIN_KEY_CHARS} random characters")
    return value.encode("utf-8", "surrogateescape")


# --- files ---------------------------------------------------------------------------------------------------------


def load_evidence(path, *, key: bytes | None = None) -> Evidence:
    """Read and validate an evidence file. Refuses, before reading, anything that is not a regular file (a FIFO,
    /dev/zero, a directory) and anything over MAX_EVIDENCE_BYTES. With `key`, a signature that does not verify
    is refused too (an unsigned file is not: whether it may be used is the gate's decision)."""
    source = str(path)
    raw = _read_limited(Path(path))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EvidenceError(f"not UTF-8 text (byte {exc.start})", source) from None
    try:
        data = json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise EvidenceError(f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})", source) from None
    except (ValueError, RecursionError) as exc:
        why = "nested too deeply" if isinstance(exc, RecursionError) else str(exc).splitlines()[0]
        raise EvidenceError(f"not usable JSON: {why}", source) from None
    try:
        evidence = Evidence.from_dict(data)
    except EvidenceError as exc:
        raise EvidenceError(str(exc), source) from None
    if key is not None:
        check = evidence.verify(key)
        if check.status == "bad":
            raise EvidenceError(check.detail, source)
    return evidence


class _DuplicateKey(ValueError):
    pass


def _unique_keys(pairs: list[tuple[str, object]]) -> dict:
    out: dict = {}
    for key, value in pairs:
        if key in out:  # json would keep the last one silently: two readers could see two different files
            raise _DuplicateKey(f"the key {_show(key)} appears twice in one object")
        out[key] = value
    return out


def _no_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


def _refuse_unless_regular(mode: int, size: int, source: str) -> None:
    if not stat.S_ISREG(mode):
        kind = file_kind(mode)
        raise EvidenceError(f"{kind}, not a regular file: refusing to read it as evidence", source)
    if size > MAX_EVIDENCE_BYTES:
        raise EvidenceError(f"{size} bytes is over the evidence size limit ({MAX_EVIDENCE_BYTES} bytes)", source)


def _read_limited(path: Path) -> bytes:
    source = str(path)
    info = stat_or(path, lambda why: EvidenceError(why, source), "evidence file not found",
                   "cannot read the evidence file")
    _refuse_unless_regular(info.st_mode, info.st_size, source)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)  # O_NONBLOCK: a FIFO swapped in after the stat does not block the open
    except OSError as exc:
        raise EvidenceError(f"cannot read the evidence file: {exc.strerror or exc}", source) from None
    try:
        info = os.fstat(fd)  # what was opened, not what the path named a moment ago
        _refuse_unless_regular(info.st_mode, info.st_size, source)
        chunks, left = [], MAX_EVIDENCE_BYTES + 1
        while left > 0:
            chunk = os.read(fd, min(left, 65536))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    except OSError as exc:
        raise EvidenceError(f"cannot read the evidence file: {exc.strerror or exc}", source) from None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > MAX_EVIDENCE_BYTES:  # it grew after the stat
        raise EvidenceError(f"over the evidence size limit ({MAX_EVIDENCE_BYTES} bytes)", source)
    return data


def write_evidence(evidence: Evidence, path, key: bytes | None = None) -> Evidence:
    """Write atomically (a reader never sees half a file; a failed write keeps the old one), signed when `key` is
    given. The document is validated first: migrator never writes evidence its own reader would refuse.
    Returns what was written."""
    evidence = Evidence.from_dict(evidence.to_dict())
    if key is not None:
        evidence = evidence.signed(key)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(evidence.to_dict(), indent=2, ensure_ascii=False) + "\n"
    fd, tmp = tempfile.mkstemp(prefix=".evidence-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return evidence
