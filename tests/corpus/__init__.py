"""The labelled correctness corpus: real migrations and single statements, labelled independently of migrator.

- ``migrations/<project>/<name>.sql``: one real migration per file, rendered to PostgreSQL SQL, with a header
  ``-- source:``, ``-- label: expand|migrate|contract`` and ``-- why:``.
- ``statements.tsv``: ``label<TAB>sql<TAB>reason``, one statement per row; ``\\t``, ``\\n`` and ``\\\\`` are escaped.

See README.md beside this file for where the labels come from and what was left out.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

CORPUS = Path(__file__).parent
MIGRATIONS = CORPUS / "migrations"
STATEMENTS = CORPUS / "statements.tsv"
LABELS = ("none", "expand", "migrate", "contract")


@dataclass
class Item:
    label: str
    sql: str
    source: str  # file path or "statements.tsv:<line>"
    why: str
    got: str | None = None  # filled by classify()
    error: str | None = None

    @property
    def first_line(self) -> str:
        for line in self.sql.splitlines():
            if line.strip() and not line.lstrip().startswith("--"):
                return line.strip()
        return self.sql.strip().splitlines()[0] if self.sql.strip() else ""


def _unescape(text: str) -> str:
    out, i = [], 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            out.append({"t": "\t", "n": "\n", "\\": "\\"}.get(nxt, "\\" + nxt))
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def load_migrations() -> list[Item]:
    items = []
    for path in sorted(MIGRATIONS.glob("*/*.sql")):
        text = path.read_text(encoding="utf-8")
        head = {}
        for line in text.splitlines()[:3]:
            key, _, value = line.removeprefix("-- ").partition(":")
            head[key.strip()] = value.strip()
        label = head.get("label")
        if label not in ("expand", "migrate", "contract") or "source" not in head or "why" not in head:
            raise ValueError(f"{path}: header must start with -- source:, -- label: expand|migrate|contract, -- why:")
        items.append(Item(label, text, str(path.relative_to(CORPUS)), head["why"]))
    return items


def load_statements() -> list[Item]:
    items = []
    lines = STATEMENTS.read_text(encoding="utf-8").splitlines()
    if lines[0].split("\t") != ["label", "sql", "reason"]:
        raise ValueError(f"{STATEMENTS}: first line must be the header label<TAB>sql<TAB>reason")
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) != 3 or parts[0] not in LABELS:
            raise ValueError(f"{STATEMENTS}:{number}: expected label<TAB>sql<TAB>reason, got {line!r}")
        items.append(Item(parts[0], _unescape(parts[1]), f"statements.tsv:{number}", _unescape(parts[2])))
    return items


def classify(items: list[Item], config=None) -> list[Item]:
    """Fill ``got`` with migrator's phase for each item (whole text = one migration)."""
    from migrator.config import Config
    from migrator.classify.engine import classify_sql

    config = config or Config()
    for item in items:
        try:
            report = classify_sql(item.sql, item.source, config)
            item.got = report.phase.label
        except Exception as exc:  # a crash is a disagreement, reported with its message
            item.got, item.error = "error", f"{type(exc).__name__}: {exc}"
    return items


@dataclass
class Score:
    total: int = 0
    agree: int = 0
    matrix: Counter = field(default_factory=Counter)  # (label, got) -> count
    unsafe: list[Item] = field(default_factory=list)  # contract labelled, classified expand/none/error
    wrong: list[Item] = field(default_factory=list)

    @property
    def agreement(self) -> float:
        return self.agree / self.total if self.total else 1.0


def score(items: list[Item]) -> Score:
    s = Score()
    for item in items:
        s.total += 1
        s.matrix[(item.label, item.got)] += 1
        if item.got == item.label:
            s.agree += 1
        else:
            s.wrong.append(item)
            if item.label == "contract" and item.got in ("expand", "none", "error"):
                s.unsafe.append(item)
    return s


def matrix_text(s: Score) -> str:
    gots = [g for g in (*LABELS, "error") if any(k[1] == g for k in s.matrix)]
    width = max(9, *(len(g) for g in gots))
    lines = ["label \\ got".ljust(12) + "".join(g.rjust(width) for g in gots)]
    for label in LABELS:
        if not any(k[0] == label for k in s.matrix):
            continue
        lines.append(label.ljust(12) + "".join(str(s.matrix.get((label, g), 0)).rjust(width) for g in gots))
    return "\n".join(lines)
