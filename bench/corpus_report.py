"""Agreement of migrator with the labelled corpus (tests/corpus), for iterating on the rules.

    python bench/corpus_report.py [--only migrations|statements] [--no-squawk] [--rules]

Prints, for real migrations and for single statements: the agreement, the confusion matrix (rows = label,
columns = migrator's phase) and every disagreement as `label -> got  source: first line` (with the rules that
matched when --rules is given). Unsafe disagreements (contract labelled, classified expand/none) are marked `!!`.
When squawk-cli is installed it also prints squawk's agreement read as a binary classifier: contract when one of
its breaking rules fires, otherwise "not contract" (squawk has no notion of expand or migrate).
Exit status 1 when a target of tests/unit/test_corpus.py is missed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.corpus import Item, classify, load_migrations, load_statements, matrix_text, score  # noqa: E402

TARGETS = {"migrations": 0.99, "statements": 0.97}
# squawk rules that mean "old code may break or the change is restrictive" (contract); style and
# lock-timeout rules are left out.
SQUAWK_BREAKING = {
    "adding-foreign-key-constraint", "adding-not-nullable-field", "adding-required-field",
    "adding-serial-primary-key-field", "ban-alter-domain-with-add-constraint", "ban-drop-column",
    "ban-drop-database", "ban-drop-table", "ban-truncate-cascade", "changing-column-type",
    "constraint-missing-not-valid", "disallowed-unique-constraint", "renaming-column", "renaming-table",
    "require-concurrent-index-deletion",
}


def rules_of(item: Item) -> str:
    from migrator.classify.engine import classify_sql

    try:
        report = classify_sql(item.sql, item.source)
    except Exception as exc:
        return f"[{type(exc).__name__}]"
    parts = []
    for st in report.statements:
        parts.append(f"{st.phase.label[0]}:{'+'.join(st.rules)}")
    return " ".join(parts)


def squawk_agreement(items: list[Item]) -> str | None:
    exe = shutil.which("squawk") or str(Path(sys.executable).with_name("squawk"))
    if not Path(exe).exists():
        return None
    with tempfile.TemporaryDirectory() as tmp:
        paths = {}
        for n, item in enumerate(items):
            p = Path(tmp) / f"{n:05d}.sql"
            p.write_text(item.sql + ("\n" if not item.sql.endswith("\n") else ""), encoding="utf-8")
            paths[str(p)] = item
        proc = subprocess.run([exe, "--reporter", "json", *paths], capture_output=True, text=True)
        try:
            found = json.loads(proc.stdout or "[]")
        except json.JSONDecodeError:
            return f"squawk output unreadable: {proc.stderr.strip()[:200]}"
    breaking = {f["file"] for f in found if f.get("rule_name") in SQUAWK_BREAKING}
    parse_errors = {f["file"] for f in found if f.get("rule_name") in (None, "syntax-error")}
    agree = unsafe = 0
    for path, item in paths.items():
        said_contract = path in breaking or path in parse_errors
        is_contract = item.label == "contract"
        agree += said_contract == is_contract
        unsafe += is_contract and not said_contract
    return (f"squawk (binary contract / not contract): {agree}/{len(items)} = {agree / len(items):.1%}; "
            f"contract items it passes: {unsafe}")


def migrator_binary(items: list[Item]) -> str:
    agree = sum((i.label == "contract") == (i.got in ("contract", "error")) for i in items)
    return f"migrator read the same binary way: {agree}/{len(items)} = {agree / len(items):.1%}"


def report(kind: str, items: list[Item], *, with_rules: bool, with_squawk: bool) -> bool:
    classify(items)
    s = score(items)
    target = TARGETS[kind]
    ok = s.agreement >= target and not s.unsafe
    print(f"== {kind}: {s.agree}/{s.total} agree = {s.agreement:.1%} (target {target:.0%}); "
          f"unsafe (contract -> expand/none): {len(s.unsafe)} {'OK' if ok else 'FAIL'}")
    print(matrix_text(s))
    if s.wrong:
        print(f"-- {len(s.wrong)} disagreement(s): label -> got  source: first line")
        for item in sorted(s.wrong, key=lambda i: (i.label, i.got or "", i.source)):
            mark = "!!" if item in s.unsafe else "  "
            line = f"{mark} {item.label:>8} -> {item.got:<8} {item.source}: {item.first_line[:110]}"
            if item.error:
                line += f"  [{item.error[:120]}]"
            if with_rules:
                line += f"\n{'':14}rules: {rules_of(item)}"
            print(line)
    if with_squawk:
        text = squawk_agreement(items)
        if text:
            print(text)
            print(migrator_binary(items))
    print()
    return ok


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", choices=["migrations", "statements"])
    ap.add_argument("--no-squawk", action="store_true", help="skip the squawk comparison")
    ap.add_argument("--rules", action="store_true", help="show the rules that matched each disagreement")
    args = ap.parse_args(argv)
    ok = True
    if args.only in (None, "migrations"):
        ok &= report("migrations", load_migrations(), with_rules=args.rules, with_squawk=not args.no_squawk)
    if args.only in (None, "statements"):
        ok &= report("statements", load_statements(), with_rules=args.rules, with_squawk=not args.no_squawk)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
