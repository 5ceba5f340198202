"""Streamed classification and rendering (D7): the same output as the whole-report renderers, with the
statement reports spooled to disk, and memory that does not grow with the input.

The memory tests run the real CLI on generated inputs of a few MiB and read the child's peak RSS."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from migrator.config import Config
from migrator.classify.engine import classify_sql, classify_stream
from migrator.model import Report
from migrator.report import render
from migrator.report.json_format import render_json
from migrator.report.sarif import to_sarif
from migrator.classify.spool import StatementSpool
from tests._cli import migrator_command
from tests.corpus import load_migrations
from tests.rules.fixtures import FIXTURES, load_cases

SUPPRESSED = """\
-- migrator: ignore C317 reason: nothing reads it since release 41
ALTER TABLE users DROP COLUMN legacy;
ALTER TABLE orders ADD CONSTRAINT fk_user FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;
ALTER TABLE t ADD COLUMN a int; -- migrator: ignore all reason: reviewed
UPDATE t SET a = 1;
-- migrator: ignore C317
ALTER TABLE t DROP COLUMN b;
-- migrator: ignore P505 reason: one-off
"""


def _texts() -> list[tuple[str, str]]:
    texts = [("suppressed.sql", SUPPRESSED)]
    for path in sorted(FIXTURES.glob("*.sql"))[::3]:
        texts.extend((f"{c.rule}:{c.line}.sql", c.sql) for c in load_cases(path.stem))
    texts.extend((item.source, item.sql) for item in load_migrations()[::2])
    return texts


def _reports(limit: int) -> tuple[Report, Report]:
    """The same migrations classified into lists, and into spools that spill after `limit` statements."""
    listed, spooled = Report(), Report()
    for name, text in _texts():
        try:
            listed.migrations.append(classify_sql(text, name, Config()))
        except Exception:
            continue
        spooled.migrations.append(classify_stream(text, name, Config(), spool=StatementSpool(limit=limit)))
    return listed, spooled


@pytest.fixture(scope="module")
def reports():
    return _reports(limit=2)


def test_streamed_json_is_the_whole_report_json(reports):
    listed, spooled = reports
    assert len(listed.migrations) > 50
    expected = render_json(listed)
    assert render(listed, "json") == expected
    assert render(spooled, "json") == expected
    assert render(Report(), "json") == render_json(Report())


def test_streamed_sarif_is_the_whole_report_sarif(reports):
    listed, spooled = reports
    expected = json.dumps(to_sarif(listed), indent=2, ensure_ascii=False) + "\n"
    assert render(listed, "sarif") == expected
    assert render(spooled, "sarif") == expected
    assert render(Report(), "sarif") == json.dumps(to_sarif(Report()), indent=2, ensure_ascii=False) + "\n"


@pytest.mark.parametrize("fmt", ["text", "github"])
def test_spooled_reports_render_like_listed_ones(reports, fmt):
    listed, spooled = reports
    assert render(spooled, fmt, verbose=True) == render(listed, fmt, verbose=True)


def test_spilled_statements_keep_late_findings_and_suppressions():
    report = classify_stream(SUPPRESSED, "s.sql", Config(), spool=StatementSpool(limit=1))
    statements = list(report.statements)
    assert len(statements) == 5 and report.statements._spilled == 5
    assert [f.suppressed for f in statements[0].findings if f.rule == "C317"] == ["nothing reads it since release 41"]
    assert "E119" in {f.rule for f in statements[1].findings}  # added at the end, to a statement on disk
    assert all(f.suppressed == "reviewed" for f in statements[2].findings)
    assert [f.suppressed for f in statements[4].findings if f.rule == "C317"] == [None]  # no reason: stays
    assert {f.rule for f in report.findings} >= {"P505", "P508"}
    assert next(f for f in report.findings if f.rule == "P505").suppressed == "reviewed"  # `all` came first
    listed = classify_sql(SUPPRESSED, "s.sql", Config())
    assert [s.findings for s in listed.statements] == [s.findings for s in statements]
    assert listed.findings == report.findings
    assert list(report.statements)[1].findings == statements[1].findings  # a second reading is the same


# --- memory and streaming, through the CLI ------------------------------------------------------------------

BENCH = Path(__file__).parents[2] / "bench"


def _generate(kind: str, mib: float, path: Path) -> None:
    sys.path.insert(0, str(BENCH))
    try:
        from classify_memory import generate
    finally:
        sys.path.pop(0)
    generate(kind, int(mib * 1024 * 1024), path)


_PEAK = """
import resource, subprocess, sys
proc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(proc.returncode, peak, proc.stderr.decode(errors="replace").replace(chr(10), " ")[:300])
"""


def _peak_rss_mib(args: list[str], cwd: Path) -> tuple[int, float, str]:
    """Run the CLI in a fresh process and return (exit code, the migrator process's peak RSS in MiB, stderr)."""
    out = subprocess.run([sys.executable, "-c", _PEAK, *migrator_command(), *args], cwd=cwd,
                         capture_output=True, text=True, timeout=600, check=True).stdout
    code, peak, err = out.split(" ", 2)
    return int(code), int(peak) / 1024, err


@pytest.mark.parametrize("kind, fmt", [("statements", "json"), ("insert", "text")])
def test_memory_stays_bounded_on_a_large_input(tmp_path, kind, fmt):
    path = tmp_path / f"{kind}.sql"
    _generate(kind, 3, path)  # 3 MiB: the whole-report classifier needed ~0.6-1 GB for it
    code, peak, err = _peak_rss_mib(["classify", "--format", fmt, path.name], tmp_path)
    assert code in (0, 1), err
    assert peak < 250, f"peak RSS {peak:.0f} MiB"


def test_giant_insert_is_classified_as_a_data_change(tmp_path):
    path = tmp_path / "seed.sql"
    _generate("insert", 2, path)
    env = dict(os.environ, NO_COLOR="1")
    proc = subprocess.run([*migrator_command(), "classify", "--format", "json", path.name], cwd=tmp_path,
                          capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode in (0, 1), proc.stderr
    (migration,) = json.loads(proc.stdout)["migrations"]
    statements = migration["statements"]
    giant = max(statements, key=lambda s: len(s["sql"]))
    assert len(giant["sql"]) > 1_900_000
    assert giant["phase"] == "migrate" and giant["table"] == "accounts"
    assert [f["rule"] for f in giant["findings"]] == ["M203"]


def test_each_migration_is_written_as_soon_as_it_is_classified(tmp_path):
    (tmp_path / "a_first.sql").write_text("ALTER TABLE users ADD COLUMN nickname text;\n")
    _generate("statements", 3, tmp_path / "b_big.sql")
    env = dict(os.environ, NO_COLOR="1")
    proc = subprocess.Popen([*migrator_command(), "classify", "--format", "json", "a_first.sql", "b_big.sql"],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    marker = b'"source": "a_first.sql"'

    def first_done(text: bytes) -> bool:  # the first migration's object is closed
        return marker in text and b"\n    }" in text[text.index(marker):]

    try:
        seen = b""
        while not first_done(seen):
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                break
            seen += chunk
        assert first_done(seen), seen[-2000:]
        assert proc.poll() is None, "the first migration appeared only when the run ended"
    finally:
        proc.kill()  # the rest of the run proves nothing more (whole reports are checked on smaller inputs)
        proc.communicate(timeout=60)
    begin = seen.rindex(b"{", 0, seen.index(marker))
    first = json.loads(seen[begin:seen.index(b"\n    }", begin) + 6])
    assert first["source"] == "a_first.sql" and first["statements"][0]["sql"].endswith("ADD COLUMN nickname text")
