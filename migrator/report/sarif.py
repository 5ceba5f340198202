"""SARIF 2.1.0 for code-scanning tools (GitHub code scanning, Azure DevOps, IDE viewers).

One run; `tool.driver.rules` lists every registered rule (id, name, title, docs, default level) and each
result points into it with `ruleIndex`. A result sits on its statement's first line and column; findings
about a whole migration (mixed phases, declared phase, ...) sit on line 1. Findings silenced by a
`-- migrator: ignore ... reason: ...` comment are kept, with an `inSource` suppression carrying the reason.
A migration that could not be read becomes an error notification and `executionSuccessful: false`.
"""

from __future__ import annotations

import hashlib
import inspect
import json
from pathlib import Path, PurePath
from typing import Any
from urllib.parse import quote

from migrator.model import Finding, MigrationReport, Report, StatementReport
from migrator.phases import Severity
from migrator.report import Writer
from migrator.report._paths import end_line, relative_path

SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
VERSION = "2.1.0"
FALLBACK_URI = "https://github.com/migrator-bluegreen/migrator"
SRCROOT = "%SRCROOT%"

LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def _information_uri() -> str:
    """The project's home page from the installed package metadata, else its PyPI page."""
    try:
        from importlib.metadata import PackageNotFoundError, metadata

        meta = metadata("migrator-bluegreen")
    except (ImportError, PackageNotFoundError):  # running from a source tree
        return FALLBACK_URI
    for entry in meta.get_all("Project-URL") or ():
        label, _, url = entry.partition(",")
        if label.strip().lower() in ("homepage", "home", "source", "repository") and url.strip():
            return url.strip()
    home = next(iter(meta.get_all("Home-page") or ()), None)
    return home.strip() if home and home.strip().lower() != "unknown" else FALLBACK_URI


def _version() -> str:
    from migrator import __version__

    return __version__


def rule_descriptor(rule, help_uri: str | None = None) -> dict:
    """A SARIF reportingDescriptor from a rule: the docstring's title and body are its documentation."""
    doc = inspect.cleandoc(type(rule).__doc__ or "")
    title, _, body = doc.partition("\n")
    title = title.strip() or rule.name
    body = body.strip() or title
    help_text = f"{body}\n\n## Fix\n{rule.fix}" if rule.fix else body
    level = LEVELS[rule.severity] if rule.severity is not None else "none"
    descriptor = {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": title},
        "fullDescription": {"text": body},
        "help": {"text": help_text, "markdown": help_text},
        "defaultConfiguration": {"level": level},
        "properties": {
            "phase": rule.phase.label,
            "lock": rule.lock.label if rule.lock else None,
            "rewrite": rule.rewrite.label,
            "tags": ["migrator", rule.phase.label],
        },
    }
    if help_uri:
        descriptor["helpUri"] = help_uri
    return descriptor


def _artifact(source: str) -> dict:
    path = relative_path(source)
    if PurePath(path).is_absolute():
        return {"uri": Path(path).as_uri()}
    return {"uri": quote(path, safe="/"), "uriBaseId": SRCROOT}


def _message(f: Finding) -> str:
    return f"{f.message.rstrip('. ')}. Fix: {f.fix}" if f.fix else f.message


class _Builder:
    def __init__(self, rules_url: str | None = None) -> None:
        from migrator.rules import rule_url, rules_base
        from migrator.rules.registry import all_rules

        base = rules_base() if rules_url is None else rules_url
        self.rules: list[dict] = []
        self.index: dict[str, int] = {}
        for rule in all_rules():
            self._add(rule.id, rule_descriptor(rule, rule_url(rule.id, base)))

    def _add(self, rule_id: str, descriptor: dict) -> int:
        self.index[rule_id] = len(self.rules)
        self.rules.append(descriptor)
        return self.index[rule_id]

    def rule_index(self, f: Finding) -> int:
        found = self.index.get(f.rule)
        if found is None:  # a rule the registry does not know (e.g. an unloaded plug-in): describe it minimally
            found = self._add(f.rule, {"id": f.rule, "name": f.name, "shortDescription": {"text": f.name}})
        return found

    def result(self, f: Finding, m: MigrationReport, s: StatementReport | None) -> dict:
        region: dict[str, Any] = {"startLine": s.line, "startColumn": s.column} if s else {"startLine": 1, "startColumn": 1}
        if s is not None and m.revision is None:  # alembic: lines point into the revision file, not the SQL
            region["endLine"] = end_line(s.line, s.sql)
            region["snippet"] = {"text": s.sql}
        if s is not None and f.line is not None:  # a statement inside a DO block: its own line
            region = {"startLine": f.line, "endLine": f.line}
        properties = {
            "phase": (s.phase if s else m.phase).label,
            "lock": s.lock.label if s and s.lock else None,
            "table": s.table if s else None,
            "rewrite": s.rewrite.label if s else None,
            "migration": m.source,
            "migrationPhase": m.phase.label,
        }
        if m.revision is not None:
            properties["revision"] = m.revision
        key = f"{f.rule}\0{relative_path(m.source)}\0{' '.join(s.sql.split()) if s else ''}\0{f.message}"
        result = {
            "ruleId": f.rule,
            "ruleIndex": self.rule_index(f),
            "level": LEVELS[f.severity],
            "message": {"text": _message(f)},
            "locations": [{"physicalLocation": {"artifactLocation": _artifact(m.source), "region": region}}],
            "partialFingerprints": {"migratorFinding/v1": hashlib.sha256(key.encode()).hexdigest()[:32]},
            "properties": properties,
        }
        if f.suppressed is not None:
            result["suppressions"] = [{"kind": "inSource", "justification": f.suppressed}]
        return result


def _document(builder: _Builder, results: list | str, notifications: list[dict], summary: dict) -> dict:
    """The SARIF document; `results` is the list, or the _RESULTS placeholder SarifWriter replaces."""
    run = {
        "tool": {"driver": {
            "name": "migrator",
            "version": _version(),
            "semanticVersion": _version(),
            "informationUri": _information_uri(),
            "rules": builder.rules,
        }},
        "originalUriBaseIds": {SRCROOT: {"uri": Path.cwd().as_uri().rstrip("/") + "/"}},
        "columnKind": "unicodeCodePoints",
        "invocations": [{"executionSuccessful": not notifications, "toolExecutionNotifications": notifications}],
        "results": results,
        "properties": {"summary": summary},
    }
    return {"$schema": SCHEMA, "version": VERSION, "runs": [run]}


def _notification(m: MigrationReport) -> dict:
    return {"level": "error", "message": {"text": m.error},
            "locations": [{"physicalLocation": {"artifactLocation": _artifact(m.source)}}]}


def to_sarif(report: Report, *, rules_url: str | None = None) -> dict:
    b = _Builder(rules_url)
    results: list[dict] = []
    notifications: list[dict] = []
    for m in report.migrations:
        for s in m.statements:
            results.extend(b.result(f, m, s) for f in s.findings)
        results.extend(b.result(f, m, None) for f in m.findings)
        if m.error:
            notifications.append(_notification(m))
    return _document(b, results, notifications, report.summary())


_INDENT = " " * 8  # a result's depth in the document: runs > run > results > result
_RESULTS = "\u0000results\u0000"  # stands in for the results while the rest of the document is encoded


class SarifWriter(Writer):
    """Results are encoded as they come, into a temporary file (memory up to 16 MB); the document, which
    needs every rule and notification first, is written at the end with them in place."""

    def begin(self) -> None:
        import tempfile

        self.builder = _Builder(self.rules_url)
        self.notifications: list[dict] = []
        self.results = tempfile.SpooledTemporaryFile(max_size=16 << 20, mode="w+", encoding="utf-8")
        self.count = 0

    def _add(self, f: Finding, m: MigrationReport, s: StatementReport | None) -> None:
        encoded = json.dumps(self.builder.result(f, m, s), indent=2, ensure_ascii=False)
        self.results.write((",\n" if self.count else "\n") + _INDENT + encoded.replace("\n", "\n" + _INDENT))
        self.count += 1

    def statement(self, m: MigrationReport, s: StatementReport) -> None:
        for f in s.findings:
            self._add(f, m, s)

    def end_migration(self, m: MigrationReport) -> None:
        for f in m.findings:
            self._add(f, m, None)
        if m.error:
            self.notifications.append(_notification(m))

    def end(self, summary) -> None:
        doc = json.dumps(_document(self.builder, _RESULTS, self.notifications, summary.to_dict()), indent=2,
                         ensure_ascii=False)
        before, _, after = doc.partition(json.dumps(_RESULTS))
        self.out.write(before)
        if self.count:
            self.out.write("[")
            self.results.seek(0)
            while chunk := self.results.read(1 << 20):
                self.out.write(chunk)
            self.out.write("\n      ]")
        else:
            self.out.write("[]")
        self.out.write(after + "\n")
        self.results.close()


def render_sarif(report: Report, *, rules_url: str | None = None) -> str:
    return json.dumps(to_sarif(report, rules_url=rules_url), indent=2, ensure_ascii=False) + "\n"
