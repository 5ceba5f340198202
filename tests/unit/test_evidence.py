"""migrator.evidence: the typed model of the compat evidence file (version 2), its strict reader, signing and the
one summary. No database here: the gates that use it are in tests/integration/test_gates.py and test_release_commands.py."""

from __future__ import annotations

import json
import os
import threading
import time

import pytest

from migrator.errors import ConfigError, MigratorError
from migrator.evidence import (
    MAX_EVIDENCE_BYTES, Cell, Evidence, EvidenceError, key_id, load_evidence, signing_key, write_evidence)
from tests._evidence import KEY, cell, changed, document, write


def test_a_written_file_reads_back_the_same_and_is_its_own_json(tmp_path):
    doc = document()
    evidence = Evidence.from_dict(doc)
    assert evidence.to_dict() == doc  # the model keeps every field as the file has it (the signature covers it)
    written = write_evidence(evidence, tmp_path / "out" / "e.json")
    loaded = load_evidence(tmp_path / "out" / "e.json")
    assert loaded == written == evidence and loaded.signature is None
    assert json.loads((tmp_path / "out" / "e.json").read_text()) == doc
    assert [c.name for c in loaded.cells] == ["blue/expanded", "green/expanded", "green/contracted"]
    assert loaded.cell("green", "expanded").passed == 7 and loaded.cell("blue", "contracted") is None


def test_the_writer_refuses_what_the_reader_would(tmp_path):
    bad = Evidence.from_dict(document())
    bad.cells[0].total = 99
    with pytest.raises(EvidenceError, match=r"cells\[0\].total: 99 is not passed \+ failed \+ errors \+ skipped"):
        write_evidence(bad, tmp_path / "e.json")
    assert not (tmp_path / "e.json").exists()


# every field is validated; the message names its path, in one line
MISTAKES = [
    ("cells.1.failed", "0", 'cells[1].failed: expected a non-negative integer, got "0"'),
    ("cells.0.passed", True, "cells[0].passed: expected a non-negative integer, got true"),
    ("cells.0.passed", -1, "cells[0].passed: expected a non-negative integer, got -1"),
    ("cells.0.passed", 7.0, "cells[0].passed: expected a non-negative integer, got 7.0"),
    ("cells.0.total", 8, r"cells[0].total: 8 is not passed + failed + errors + skipped (7)"),
    ("cells.0.duration", "1s", 'cells[0].duration: expected a non-negative number of seconds, got "1s"'),
    ("cells.0.app", "purple", 'cells[0].app: expected "blue" or "green", got "purple"'),
    ("cells.0.schema", "staging", 'cells[0].schema: expected "expanded" or "contracted", got "staging"'),
    ("cells.2.result", "passed", 'cells[2].result: expected one of "pass" or "fail" or "error" or "inconclusive", '
                                 'got "passed"'),
    ("cells.0.failures", {}, "cells[0].failures: expected an array, got an object"),
    ("cells.0.fingerprint_before", 7, "cells[0].fingerprint_before: expected 64 lowercase hex digits"),
    ("blue.sha", 12345, "blue.sha: expected 40 lowercase hex digits (a full git commit sha), got 12345"),
    ("green.sha", "9E" * 20, "green.sha: expected 40 lowercase hex digits"),
    ("green.sha", "9e9e9e9", "green.sha: expected 40 lowercase hex digits"),
    ("green.dirty", "false", 'green.dirty: expected true or false, got "false"'),
    ("schemas.expanded", 123, "schemas.expanded: expected 64 lowercase hex digits (a schema fingerprint) or null, "
                              "got 123"),
    ("schemas.blue", "b" * 63, "schemas.blue: expected 64 lowercase hex digits"),
    ("result", "PASS", 'result: expected one of "pass" or "fail" or "refused" or "inconclusive", got "PASS"'),
    ("result", None, "result: expected one of"),
    ("reason", 5, "reason: expected a string or null, got 5"),
    ("cells", {}, "cells: expected an array, got an object"),
    ("revisions.expand", "0003", 'revisions.expand: expected an array, got "0003"'),
    ("revisions.expand", [3], "revisions.expand[0]: expected a non-empty string, got 3"),
    ("required_cells", ["blue/staging"], 'required_cells[0]: expected one of "blue/expanded" or'),
    ("postgres_version", "15", 'postgres_version: expected a non-negative integer or null, got "15"'),
    ("timestamp", "yesterday", 'timestamp: expected an ISO 8601 time, got "yesterday"'),
    ("timestamp", "2026-12-04T10:00:00", "timestamp: expected an ISO 8601 time with a UTC offset"),
    ("signature", {"algorithm": "hmac-md5", "key_id": "0" * 16, "value": "0" * 64},
     'signature.algorithm: expected "hmac-sha256", got "hmac-md5"'),
    ("signature", {"algorithm": "hmac-sha256", "key_id": 1, "value": "0" * 64},
     "signature.key_id: expected 16 lowercase hex digits, got 1"),
    ("version", 1, "evidence version 1 is from an older migrator: rerun `migrator compat`"),
    ("version", 3, "version: evidence version 3 is not supported (this migrator reads version 2)"),
    ("version", "2", 'version: evidence version "2" is not supported'),
    ("kind", "something", 'not a migrator compat evidence file (kind is "something", expected "migrator.compat")'),
    ("suites", [], "suites: unknown key (evidence version 2 has no such field)"),
    ("schema_fingerprint", "e" * 64, "schema_fingerprint: unknown key"),
    ("cells.0.verdict", "pass", "cells[0].verdict: unknown key"),
    ("green.ref", "", "green.ref: expected a non-empty string or null"),
]


@pytest.mark.parametrize("field, value, message", MISTAKES, ids=[f"{m[0]}={m[1]!r}"[:40] for m in MISTAKES])
def test_every_field_is_checked_and_named(tmp_path, field, value, message):
    path = write(tmp_path / "e.json", changed(document(), field, value))
    with pytest.raises(EvidenceError) as info:
        load_evidence(path)
    text = str(info.value)
    assert text.startswith(f"{path}: ") and message in text, text
    assert "\n" not in text and info.value.exit_code == 2


@pytest.mark.parametrize("drop, message", [
    ("cells", "cells: missing"), ("schemas.contracted", "schemas.contracted: missing"),
    ("cells.0.deselected", "cells[0].deselected: missing"), ("blue.sha", "blue.sha: missing")])
def test_a_missing_field_is_named(tmp_path, drop, message):
    doc = document()
    *path, last = drop.split(".")
    target = doc
    for part in path:
        target = target[int(part)] if isinstance(target, list) else target[part]
    del target[last]
    with pytest.raises(EvidenceError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_evidence(write(tmp_path / "e.json", doc))


def test_cells_and_required_cells_are_each_named_once(tmp_path):
    doc = document(cells=["blue/expanded", "blue/expanded"])
    with pytest.raises(EvidenceError, match=r"cells\[1\]: a second blue/expanded cell"):
        load_evidence(write(tmp_path / "e.json", doc))
    doc = document(required_cells=["blue/expanded", "blue/expanded"])
    with pytest.raises(EvidenceError, match="required_cells: a cell is named twice"):
        load_evidence(write(tmp_path / "e.json", doc))


@pytest.mark.parametrize("text, message", [
    ('{"version": 2, "version": 2}', 'the key "version" appears twice in one object'),
    ('{"duration_seconds": NaN}', "NaN is not a number JSON allows"),
    ('{"duration_seconds": Infinity}', "Infinity is not a number JSON allows"),
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ('{"version": 2', "not valid JSON: Expecting"),
    ("[1, 2]", "evidence: expected a JSON object, got an array"),
    ('"pass"', 'evidence: expected a JSON object, got "pass"'),
    ("", "not valid JSON"),
])
def test_json_that_two_readers_could_read_differently_is_refused(tmp_path, text, message):
    path = tmp_path / "e.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(EvidenceError, match=message.replace("[", r"\[")):
        load_evidence(path)


def test_not_utf8_is_refused(tmp_path):
    path = tmp_path / "e.json"
    path.write_bytes(b'{"reason": "\xff"}')
    with pytest.raises(EvidenceError, match=r"not UTF-8 text \(byte 12\)"):
        load_evidence(path)
    path.write_text(json.dumps(changed(document(), "reason", "\ud800")), encoding="utf-8")  # a lone surrogate
    with pytest.raises(EvidenceError, match="reason: not valid Unicode"):
        load_evidence(path)


# -- files: refused before reading --------------------------------------------------------------------------------
def test_missing_file_and_directory(tmp_path):
    with pytest.raises(EvidenceError, match="evidence file not found"):
        load_evidence(tmp_path / "nope.json")
    with pytest.raises(EvidenceError, match="a directory, not a regular file: refusing to read it as evidence"):
        load_evidence(tmp_path)


def test_dev_zero_is_refused_before_reading():
    started = time.monotonic()
    with pytest.raises(EvidenceError, match="/dev/zero: a character device, not a regular file"):
        load_evidence("/dev/zero")
    assert time.monotonic() - started < 1


def test_a_fifo_without_a_writer_is_refused_without_hanging(tmp_path):
    fifo = tmp_path / "evidence.json"
    os.mkfifo(fifo)
    outcome: list = []

    def load():
        try:
            load_evidence(fifo)
        except MigratorError as exc:
            outcome.append(exc)

    reader = threading.Thread(target=load, daemon=True)
    reader.start()
    reader.join(timeout=5)
    if reader.is_alive():  # it blocked in open(): release it so that the test run can go on, then fail
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        os.close(fd)
        pytest.fail("load_evidence blocked on a FIFO with no writer")
    assert len(outcome) == 1 and "a FIFO, not a regular file" in str(outcome[0])


def test_over_the_size_limit_is_refused_before_reading(tmp_path):
    huge = tmp_path / "huge.json"
    with open(huge, "wb") as f:
        f.truncate(8 * 1024 ** 3)  # 8 GiB, sparse: reading it would take long and the memory with it
    started = time.monotonic()
    with pytest.raises(EvidenceError, match=rf"{8 * 1024 ** 3} bytes is over the evidence size limit "
                                            rf"\({MAX_EVIDENCE_BYTES} bytes\)"):
        load_evidence(huge)
    assert time.monotonic() - started < 1
    over = tmp_path / "over.json"
    over.write_bytes(b" " * (MAX_EVIDENCE_BYTES + 1))
    with pytest.raises(EvidenceError, match="over the evidence size limit"):
        load_evidence(over)
    at_limit = tmp_path / "limit.json"  # the limit itself is allowed: what fails then is the content
    doc = json.dumps(document()).encode()
    at_limit.write_bytes(doc + b" " * (MAX_EVIDENCE_BYTES - len(doc)))
    assert load_evidence(at_limit).result == "pass"


# -- signing -------------------------------------------------------------------------------------------------------
def test_signed_evidence_verifies_and_any_edit_breaks_it(tmp_path):
    path = write(tmp_path / "e.json", document(), key=KEY)
    signed = load_evidence(path, key=KEY)
    assert signed.signature.key_id == key_id(KEY) == __import__("hashlib").sha256(KEY).hexdigest()[:16]
    check = signed.verify(KEY)
    assert check.status == "verified" and check.verified and check.key_id == key_id(KEY)
    # whitespace is not content: the same document re-indented still verifies
    path.write_text(json.dumps(json.loads(path.read_text())), encoding="utf-8")
    assert load_evidence(path, key=KEY).verify(KEY).verified

    text = path.read_text()
    start = text.index('"expanded": "') + len('"expanded": "')
    edits = {"one hex digit of the expanded schema": (start, "f"),
             "one digit of the duration": (text.index('"duration_seconds": 3.2') + len('"duration_seconds": 3.'), "9"),
             "one letter of blue's ref": (text.index('"ref": "blue"') + len('"ref": "'), "g")}
    for what, (at, byte) in edits.items():
        edited = tmp_path / "edited.json"
        edited.write_text(text[:at] + byte + text[at + 1:], encoding="utf-8")
        assert edited.read_bytes() != path.read_bytes()
        loaded = load_evidence(edited)  # well-formed: only the signature tells
        assert loaded.verify(KEY).status == "bad", what
        assert "does not match the content: the file was changed after it was signed" in loaded.verify(KEY).detail
        with pytest.raises(EvidenceError, match="the file was changed after it was signed"):
            load_evidence(edited, key=KEY)


def test_signature_statuses(tmp_path):
    signed = load_evidence(write(tmp_path / "s.json", document(), key=KEY))
    other = b"another-key-entirely-0123456789"
    bad = signed.verify(other)
    assert bad.status == "bad" and f"signed with key {key_id(KEY)}, but the key set here is {key_id(other)}" in bad.detail
    assert signed.verify(None).status == "unverified"
    unsigned = load_evidence(write(tmp_path / "u.json", document()))
    assert unsigned.verify(KEY).status == "unsigned" and unsigned.verify(None).status == "unsigned"
    assert load_evidence(tmp_path / "u.json", key=KEY).signature is None  # unsigned is the gate's decision
    # the signature covers every field, signature aside: a copied signature does not fit another document
    forged = changed(document(result="fail"), "signature", signed.signature.to_dict())
    assert load_evidence(write(tmp_path / "f.json", forged)).verify(KEY).status == "bad"


def test_the_key_comes_from_the_environment():
    assert signing_key(environ={}) is None
    assert signing_key(environ={"MIGRATOR_EVIDENCE_KEY": ""}) is None
    assert signing_key(environ={"MIGRATOR_EVIDENCE_KEY": "k" * 16}) == b"k" * 16
    assert signing_key("SHOP_KEY", environ={"MIGRATOR_EVIDENCE_KEY": "k" * 16}) is None
    assert signing_key("SHOP_KEY", environ={"SHOP_KEY": "s" * 20}) == b"s" * 20
    with pytest.raises(ConfigError, match=r"\$MIGRATOR_EVIDENCE_KEY is too short to be an evidence key \(5 characters\)"):
        signing_key(environ={"MIGRATOR_EVIDENCE_KEY": "short"})


# -- one summary ---------------------------------------------------------------------------------------------------
def test_summary_and_digest(tmp_path):
    signed = load_evidence(write(tmp_path / "s.json", document(), key=KEY))
    summary = signed.summary()
    assert summary["key_id"] == key_id(KEY) and summary["digest"] == signed.digest()
    assert summary["cells"][1] == {"cell": "green/expanded", "result": "pass", "passed": 7, "failed": 0, "errors": 0,
                                   "skipped": 0, "total": 7}
    assert summary["schemas"]["expanded"] == "e" * 64 and summary["blue_sha"] == "b1" * 20
    assert "project_dir" not in json.dumps(summary) and "failures" not in json.dumps(summary)
    unsigned = Evidence.from_dict(document())
    assert unsigned.summary()["key_id"] is None
    assert unsigned.digest() != signed.digest()  # the digest covers the signature: it names this exact file
    assert Evidence.from_dict(document()).digest() == unsigned.digest()


def test_a_cell_proves_something_only_when_its_counts_say_so():
    assert Cell("blue", "expanded", "pass", passed=3, total=3).problems() == []
    assert Cell("blue", "expanded", "pass").problems() == ["no test passed (no tests is no evidence)"]
    assert Cell("blue", "expanded", "pass", passed=3, failed=1, total=4).problems() == ["1 failed, 0 errors"]
    assert Cell("green", "expanded", "fail", passed=3, errors=2, total=5, reason="2 of 5 tests failed").problems() == [
        "result fail (2 of 5 tests failed)", "0 failed, 2 errors"]
    assert cell("green/expanded", skipped=4, passed=0)["total"] == 4


def test_compat_result_builds_valid_evidence(tmp_path, monkeypatch):
    from migrator.compat.result import CompatResult, write_evidence as write_compat

    monkeypatch.delenv("MIGRATOR_EVIDENCE_KEY", raising=False)
    result = CompatResult(result="pass", blue_ref="v1", blue_sha="a" * 40, green_sha="b" * 40,
                          schemas={"blue": "d" * 64, "expanded": "c" * 64, "contracted": None},
                          required_cells=["blue/expanded"], timestamp="2026-01-01T00:00:00+00:00",
                          revisions={"blue_heads": ["0002"], "expand": ["0003"]},
                          cells=[Cell("blue", "expanded", "pass", passed=2, total=2, duration=0.5,
                                      failures=[{"test": "t.py::x", "error": "boom"}])])
    write_compat(result, tmp_path / "e.json")
    loaded = load_evidence(tmp_path / "e.json")
    assert loaded.schemas.blue == "d" * 64 and loaded.schemas.expanded == "c" * 64
    assert loaded.required_cells == ["blue/expanded"] and loaded.revisions["none"] == []
    assert loaded.signature is None and result.to_dict() == loaded.to_dict()

    monkeypatch.setenv("SHOP_EVIDENCE_KEY", KEY.decode())
    write_compat(result, tmp_path / "s.json", "SHOP_EVIDENCE_KEY")
    signed = load_evidence(tmp_path / "s.json", key=KEY)
    assert signed.verify(KEY).verified and result.signature == signed.signature
    assert result.to_dict() == signed.to_dict()  # the JSON report is the file that was written
