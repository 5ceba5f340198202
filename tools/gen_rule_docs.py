"""Write docs/rules/<id>.md from each rule's docstring (the single source), and docs/rules/README.md."""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from migrator.rules.registry import all_rules  # noqa: E402


def render(rule) -> str:
    doc = inspect.cleandoc(type(rule).__doc__ or "")
    title, _, body = doc.partition("\n")
    lock = rule.lock.label if rule.lock else "none"
    severity = rule.severity.label if rule.severity else "none (classification only)"
    return (
        f"# {rule.id} {rule.name}\n\n"
        f"{title.strip()}\n\n"
        f"| phase | severity | lock | rewrite |\n|---|---|---|---|\n"
        f"| {rule.phase.label} | {severity} | {lock} | {rule.rewrite.label} |\n"
        f"{body.rstrip()}\n"
        + (f"\n## Fix\n{rule.fix}\n" if rule.fix else "")
    )


def render_index(rules) -> str:
    lines = ["# Rules", "", "| id | name | phase | severity |", "|---|---|---|---|"]
    for r in rules:
        sev = r.severity.label if r.severity else "-"
        lines.append(f"| [{r.id}]({r.id}.md) | {r.name} | {r.phase.label} | {sev} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    out = ROOT / "docs" / "rules"
    out.mkdir(parents=True, exist_ok=True)
    rules = all_rules(plugins=False)
    for rule in rules:
        (out / f"{rule.id}.md").write_text(render(rule), encoding="utf-8")
    (out / "README.md").write_text(render_index(rules), encoding="utf-8")
    print(f"wrote {len(rules)} rule pages to {out}")


if __name__ == "__main__":
    main()
