"""DO blocks: the PL/pgSQL body is read and each statement in it classified like a top-level statement.

The bodies follow the shapes of PostgreSQL's PL/pgSQL documentation (chapter 43: structure, declarations,
basic statements, control structures, cursors, errors and messages, transaction management) and of what
migrations do with them: guarded creates, EXECUTE of DDL, data-only and check-only blocks, loops.
"""

from __future__ import annotations

import json

import pytest

from migrator.classify.engine import classify_sql
from migrator.phases import Phase
from migrator.sql.plpgsql import Unreadable, read_do, static_text


def only(sql: str):
    report = classify_sql(sql, "do.sql")
    assert len(report.statements) == 1
    return report.statements[0]


def rules(stmt) -> set[str]:
    return {f.rule for f in stmt.findings} | set(stmt.rules)


# (title, SQL, phase a careful DBA accepts, rules that must be there, rules that must not)
BODIES = [
    ("raise notice only", "DO $$ BEGIN RAISE NOTICE 'starting release'; END $$;", "none", {"N404"}, {"U000"}),
    ("empty body", "DO $$ BEGIN NULL; END $$;", "none", {"N404"}, {"U000"}),
    ("raise with parameters and options",
     "DO $$ DECLARE n int := 3; BEGIN RAISE NOTICE 'n is %', n USING HINT = 'just a note'; END $$;",
     "none", {"N404"}, {"U000"}),
    ("check that raises on bad data",
     "DO $$ BEGIN IF EXISTS (SELECT 1 FROM users WHERE email IS NULL) THEN\n"
     "  RAISE EXCEPTION 'users.email has NULLs'; END IF; END $$;", "none", {"N404"}, {"U000"}),
    ("SELECT INTO a variable, then check it",
     "DO $$ DECLARE n bigint; BEGIN SELECT count(*) INTO n FROM users WHERE email IS NULL;\n"
     "  IF n > 0 THEN RAISE EXCEPTION '% rows without email', n; END IF; END $$;", "none", {"N404"},
     {"U000", "E116"}),
    ("SELECT INTO STRICT with an exception handler",
     "DO $$ DECLARE v text; BEGIN SELECT name INTO STRICT v FROM settings WHERE key = 'mode';\n"
     "EXCEPTION WHEN NO_DATA_FOUND THEN RAISE EXCEPTION 'mode not set'; END $$;", "none", {"N404"}, {"U000"}),
    ("ASSERT", "DO $$ BEGIN ASSERT (SELECT count(*) FROM users) > 0, 'no users'; END $$;", "none", {"N404"},
     {"U000"}),
    ("PERFORM and FOUND",
     "DO $$ BEGIN PERFORM 1 FROM pg_catalog.pg_extension WHERE extname = 'pgcrypto';\n"
     "  IF NOT FOUND THEN RAISE EXCEPTION 'pgcrypto missing'; END IF; END $$;", "none", {"N404"}, {"U000"}),
    ("DECLARE default from a query, assignment",
     "DO $$ DECLARE total int := (SELECT count(*) FROM orders); half int; BEGIN half := total / 2;\n"
     "  RAISE NOTICE '%', half; END $$;", "none", {"N404"}, {"U000"}),
    ("EXECUTE a literal ADD COLUMN",
     "DO $$ BEGIN EXECUTE 'ALTER TABLE users ADD COLUMN nickname text'; END $$;", "expand", {"E101"}, {"U000"}),
    ("EXECUTE format() with literal arguments",
     "DO $$ BEGIN EXECUTE format('ALTER TABLE %I ADD COLUMN %I text', 'users', 'nickname'); END $$;",
     "expand", {"E101"}, {"U000"}),
    ("EXECUTE with literals joined by ||",
     "DO $$ BEGIN EXECUTE 'ALTER TABLE users ' || 'DROP COLUMN legacy'; END $$;", "contract", {"C317"}, {"U000"}),
    ("EXECUTE ... USING parameters",
     "DO $$ BEGIN EXECUTE 'UPDATE users SET plan = $1 WHERE plan IS NULL' USING 'free'; END $$;", "migrate",
     {"M203"}, {"U000"}),
    ("guarded CREATE TYPE (pg_type)",
     "DO $$ BEGIN\n  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_type WHERE typname = 'mood') THEN\n"
     "    CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');\n  END IF;\nEND $$;", "expand", {"E114"}, {"U000"}),
    ("guarded ADD COLUMN (information_schema.columns)",
     "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM information_schema.columns\n"
     "  WHERE table_name = 'users' AND column_name = 'nickname') THEN\n"
     "  ALTER TABLE users ADD COLUMN nickname text; END IF; END $$;", "expand", {"E101"}, {"U000"}),
    ("guarded CREATE TABLE (to_regclass)",
     "DO $$ BEGIN IF to_regclass('public.audit_log') IS NULL THEN\n"
     "  CREATE TABLE audit_log (id bigint PRIMARY KEY, body jsonb); END IF; END $$;", "expand", {"E116"},
     {"U000"}),
    ("guarded constraint (pg_constraint) that validates existing rows",
     "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'orders_user_fk') THEN\n"
     "  ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id);\n"
     "END IF; END $$;", "contract", {"C308"}, {"U000"}),
    ("duplicate_object handler around CREATE TYPE",
     "DO $$ BEGIN CREATE TYPE status AS ENUM ('new', 'done');\n"
     "EXCEPTION WHEN duplicate_object THEN NULL; END $$;", "expand", {"E114"}, {"U000"}),
    ("handler that runs DDL of its own",
     "DO $$ BEGIN ALTER TABLE users ADD COLUMN nickname text;\n"
     "EXCEPTION WHEN duplicate_column THEN ALTER TABLE users RENAME COLUMN nickname TO nick; END $$;",
     "contract", {"E101", "C320"}, {"U000"}),
    ("data only: UPDATE", "DO $$ BEGIN UPDATE users SET plan = 'free' WHERE plan IS NULL; END $$;", "migrate",
     {"M203"}, {"U000"}),
    ("data only: INSERT ... ON CONFLICT",
     "DO $$ BEGIN INSERT INTO plans (name) VALUES ('free') ON CONFLICT (name) DO NOTHING; END $$;", "migrate",
     {"M203"}, {"U000"}),
    ("data only: DELETE", "DO $$ BEGIN DELETE FROM sessions WHERE expires_at < now(); END $$;", "migrate",
     {"M203"}, {"U000"}),
    ("batched backfill: WHILE, GET DIAGNOSTICS, COMMIT",
     "DO $$ DECLARE moved int := 1; BEGIN\n  WHILE moved > 0 LOOP\n"
     "    UPDATE users SET plan = 'free' WHERE id IN (SELECT id FROM users WHERE plan IS NULL LIMIT 1000);\n"
     "    GET DIAGNOSTICS moved = ROW_COUNT;\n    COMMIT;\n  END LOOP;\nEND $$;", "migrate", {"M203"}, {"U000"}),
    ("integer FOR loop over key ranges",
     "DO $$ BEGIN FOR i IN 0..99 LOOP\n"
     "  UPDATE orders SET total_cents = total * 100 WHERE id >= i * 10000 AND id < (i + 1) * 10000;\n"
     "END LOOP; END $$;", "migrate", {"M203"}, {"U000"}),
    ("loop over catalog rows with EXECUTE of a concatenated variable",
     "DO $$ DECLARE r record; BEGIN\n  FOR r IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' LOOP\n"
     "    EXECUTE 'ALTER TABLE ' || r.tablename || ' OWNER TO app';\n  END LOOP;\nEND $$;", "contract",
     {"U000"}, set()),
    ("EXECUTE of a variable holding SQL",
     "DO $$ DECLARE stmt text := 'DROP TABLE users'; BEGIN EXECUTE stmt; END $$;", "contract", {"U000"}, set()),
    ("format() whose %s is a variable",
     "DO $$ DECLARE action text := 'DROP COLUMN a'; BEGIN EXECUTE format('ALTER TABLE t %s', action); END $$;",
     "contract", {"U000"}, set()),
    ("FOR ... IN EXECUTE of a variable",
     "DO $$ DECLARE r record; q text := 'SELECT 1'; BEGIN FOR r IN EXECUTE q LOOP NULL; END LOOP; END $$;",
     "contract", {"U000"}, set()),
    ("documentation example: GRANT on every view, names through quote_ident",
     "DO $$DECLARE r record;\nBEGIN\n    FOR r IN SELECT table_schema, table_name FROM information_schema.tables\n"
     "             WHERE table_type = 'VIEW' AND table_schema = 'public'\n    LOOP\n"
     "        EXECUTE 'GRANT ALL ON ' || quote_ident(r.table_schema) || '.' || quote_ident(r.table_name)"
     " || ' TO webuser';\n    END LOOP;\nEND$$;", "expand", {"E120"}, {"U000"}),
    ("format %I over catalog rows: the shape is read",
     "DO $$ DECLARE t text; BEGIN FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = 'app' LOOP\n"
     "  EXECUTE format('ALTER TABLE %I DROP COLUMN IF EXISTS legacy_flag', t); END LOOP; END $$;", "contract",
     {"C317"}, {"U000"}),
    ("nested blocks",
     "DO $$ BEGIN\n  BEGIN\n    ALTER TABLE users DROP COLUMN legacy;\n"
     "  EXCEPTION WHEN undefined_column THEN RAISE NOTICE 'already gone';\n  END;\n"
     "  RAISE NOTICE 'done';\nEND $$;", "contract", {"C317"}, {"U000"}),
    ("IF / ELSIF / ELSE take the worst branch",
     "DO $$ BEGIN\n  IF current_setting('server_version_num')::int >= 120000 THEN\n"
     "    ALTER TABLE users ADD COLUMN nickname text;\n"
     "  ELSIF current_setting('server_version_num')::int >= 110000 THEN\n"
     "    ALTER TABLE users ADD COLUMN nickname text DEFAULT '';\n  ELSE\n"
     "    ALTER TABLE users ALTER COLUMN name SET NOT NULL;\n  END IF;\nEND $$;", "contract", {"E101", "C305"},
     {"U000"}),
    ("CASE statement",
     "DO $$ DECLARE v int := 2; BEGIN CASE v WHEN 1 THEN UPDATE t SET a = 1;\n"
     "  ELSE RAISE NOTICE 'nothing'; END CASE; END $$;", "migrate", {"M203"}, {"U000"}),
    ("several statements of differing phases: the worst",
     "DO $$ BEGIN\n  ALTER TABLE users ADD COLUMN email_lower text;\n"
     "  UPDATE users SET email_lower = lower(email);\n  ALTER TABLE users DROP COLUMN email_upper;\nEND $$;",
     "contract", {"E101", "M203", "C317"}, {"U000"}),
    ("labelled loop with EXIT WHEN",
     "DO $$ DECLARE n int := 0; BEGIN <<outer>> LOOP n := n + 1; EXIT outer WHEN n > 10; END LOOP; END $$;",
     "none", {"N404"}, {"U000"}),
    ("FOREACH over an array literal",
     "DO $$ DECLARE c text; BEGIN FOREACH c IN ARRAY ARRAY['a', 'b'] LOOP\n"
     "  EXECUTE format('ALTER TABLE users ADD COLUMN %I text', c); END LOOP; END $$;", "expand", {"E101"},
     {"U000"}),
    ("cursor loop", "DO $$ DECLARE c CURSOR FOR SELECT id FROM users; BEGIN FOR r IN c LOOP\n"
     "  RAISE NOTICE '%', r.id; END LOOP; END $$;", "none", {"N404"}, {"U000"}),
    ("a condition that calls an unknown function fails closed",
     "DO $$ BEGIN IF app.needs_migration() THEN RAISE NOTICE 'x'; END IF; END $$;", "contract", {"U000"}, set()),
    ("CALL of a procedure fails closed", "DO $$ BEGIN CALL app.backfill(); END $$;", "contract", {"U000"}, set()),
    ("DO LANGUAGE plpgsql before the body",
     "DO LANGUAGE plpgsql $$ BEGIN ALTER TABLE users ADD COLUMN nickname text; END $$;", "expand", {"E101"},
     {"U000"}),
    ("LANGUAGE plpgsql after the body",
     "DO $$ BEGIN ALTER TABLE users ADD COLUMN nickname text; END $$ LANGUAGE plpgsql;", "expand", {"E101"},
     {"U000"}),
    ("named dollar quote", "DO $body$ BEGIN CREATE INDEX CONCURRENTLY ix ON users (email); END $body$;",
     "expand", {"E111", "P506"}, {"U000"}),
    ("single-quoted body", "DO 'BEGIN UPDATE users SET plan = ''free'' WHERE plan IS NULL; END';", "migrate",
     {"M203"}, {"U000"}),
    ("another language is not read", "DO LANGUAGE plpython3u $$ plpy.execute('DROP TABLE users') $$;",
     "contract", {"U000"}, set()),
    ("a body PostgreSQL rejects", "DO $$ BEGIN FOR r IN SELECT 1 LOOP NULL; END LOOP; END $$;", "contract",
     {"U000"}, set()),
    ("a body that is not PL/pgSQL", "DO $$ BEGIN this is not plpgsql; END $$;", "contract", {"U000"}, set()),
    ("EXECUTE of an unterminated literal", "DO $$ BEGIN EXECUTE 'ALTER TABLE ''users'; END $$;", "contract",
     {"U000"}, set()),
]


def test_at_least_thirty_distinct_bodies():
    assert len({sql for _, sql, *_ in BODIES}) == len(BODIES) >= 30


@pytest.mark.parametrize("title,sql,phase,present,absent", BODIES, ids=[b[0] for b in BODIES])
def test_do_body(title, sql, phase, present, absent):
    stmt = only(sql)
    found = rules(stmt)
    assert stmt.phase is Phase.parse(phase), (stmt.phase, found, [f.message for f in stmt.findings])
    assert present <= found, (present, found)
    assert not absent & found, (absent, [f.message for f in stmt.findings])


def test_inner_findings_point_at_their_line_in_the_file():
    sql = ("SET lock_timeout = '2s';\n"          # 1
           "DO $$\n"                              # 2
           "DECLARE r record;\n"                  # 3
           "BEGIN\n"                              # 4
           "  UPDATE users SET plan = 'x';\n"     # 5
           "  FOR r IN SELECT tablename FROM pg_tables LOOP\n"  # 6
           "    EXECUTE 'DROP TABLE ' || r.tablename;\n"        # 7
           "  END LOOP;\n"                        # 8
           "  ALTER TABLE users DROP COLUMN legacy;\n"           # 9
           "END $$;\n")
    report = classify_sql(sql, "do.sql")
    block = report.statements[1]
    assert block.line == 2
    lines = {f.rule: f.line for f in block.findings}
    assert lines == {"M203": 5, "U000": 7, "C317": 9}
    u000 = next(f for f in block.findings if f.rule == "U000")
    assert u000.message.startswith("line 7: ") and "r.tablename" in u000.message
    # JSON carries the line; a finding outside a DO block has none
    record = block.to_dict()["findings"]
    assert {f["rule"]: f.get("line") for f in record} == lines


def test_unreadable_body_names_its_line():
    sql = "SELECT 1;\n\nDO $$\nBEGIN\n  nonsense here;\nEND $$;"
    block = classify_sql(sql, "do.sql").statements[1]
    (finding,) = [f for f in block.findings if f.rule == "U000"]
    assert finding.line == 3 and finding.message.startswith("line 3: DO block not read")
    assert block.phase is Phase.CONTRACT


def test_block_that_adds_a_column_and_backfills_it_is_a_mixed_migration():
    report = classify_sql("DO $$ BEGIN ALTER TABLE users ADD COLUMN plan text;\n"
                          "UPDATE users SET plan = 'free'; END $$;", "do.sql")
    assert report.statements[0].phase is Phase.MIGRATE
    assert report.mixed and "P505" in {f.rule for f in report.findings}


def test_data_only_block_is_not_mixed():
    report = classify_sql("DO $$ BEGIN UPDATE users SET plan = 'free'; DELETE FROM plans WHERE old; END $$;")
    assert report.phase is Phase.MIGRATE and not report.mixed


def test_table_created_in_the_block_is_new_for_later_statements():
    # an index on a table the same block created is no lock risk (no SHARE lock warning on an empty table)
    new = only("DO $$ BEGIN CREATE TABLE audit (id bigint, at timestamptz);\n"
               "CREATE INDEX audit_at ON audit (at); END $$;")
    old = only("DO $$ BEGIN CREATE INDEX users_at ON users (at); END $$;")
    assert "without CONCURRENTLY" in " ".join(f.message for f in old.findings)
    assert "without CONCURRENTLY" not in " ".join(f.message for f in new.findings)


def test_run_time_names_never_match_a_new_table():
    # both names come from variables: the index may be on another table than the one created
    stmt = only("DO $$ DECLARE a text := 'x'; b text := 'y'; BEGIN\n"
                "EXECUTE format('CREATE TABLE %I (id int)', a);\n"
                "EXECUTE format('CREATE INDEX ON %I (id)', a); END $$;")
    assert "without CONCURRENTLY" in " ".join(f.message for f in stmt.findings)


def test_lock_timeout_set_inside_the_block_counts():
    with_timeout = only("DO $$ BEGIN SET LOCAL lock_timeout = '1s'; ALTER TABLE users DROP COLUMN a; END $$;")
    without = only("DO $$ BEGIN ALTER TABLE users DROP COLUMN a; END $$;")
    assert "P501" in rules(without) and "P501" not in rules(with_timeout)


def test_suppression_inside_the_block_applies_to_it():
    sql = ("DO $$ DECLARE s text := 'SELECT 1'; BEGIN\n"
           "  -- migrator: ignore U000 reason: reviewed, s is a constant\n"
           "  EXECUTE s;\nEND $$;")
    (finding,) = only(sql).findings
    assert finding.rule == "U000" and finding.suppressed == "reviewed, s is a constant"


def test_do_inside_execute_is_read():
    stmt = only("DO $$ BEGIN EXECUTE 'DO $x$ BEGIN ALTER TABLE users DROP COLUMN a; END $x$'; END $$;")
    assert stmt.phase is Phase.CONTRACT and "C317" in rules(stmt) and "U000" not in rules(stmt)
    assert next(f for f in stmt.findings if f.rule == "C317").message.startswith("line 1: drops column")


def test_locks_of_a_block_end_with_it_outside_a_transaction():
    # P502 (work after ACCESS EXCLUSIVE in the same transaction) holds inside the block, not after it
    inside = only("DO $$ BEGIN ALTER TABLE users ADD COLUMN a int;\nUPDATE users SET a = 1; END $$;")
    assert "P502" in rules(inside)
    report = classify_sql("DO $$ BEGIN ALTER TABLE users ADD COLUMN a int; END $$;\nUPDATE users SET a = 1;")
    assert "P502" not in report.statements[1].rules


def test_reader_lines_and_pieces():
    block = read_do("DO $$\nBEGIN\n  IF x > 1 THEN\n    UPDATE t SET a = 1;\n  END IF;\nEND $$", 10)
    assert block.line == 10
    assert [(i.line, i.sql) for i in block.items] == [(12, "SELECT x > 1"), (13, "UPDATE t SET a = 1")]


def test_reader_refuses_other_languages_and_bad_bodies():
    with pytest.raises(Unreadable, match="plperl"):
        read_do("DO LANGUAGE plperl $$ 1 $$", 1)
    with pytest.raises(Unreadable, match="not understood"):
        read_do("DO $$ BEGIN garbage; END $$", 1)


@pytest.mark.parametrize("expr,text", [
    ("'a' || 'b'", "ab"),
    ("format('ALTER TABLE %I ADD %s int', 'Users', 'c')", 'ALTER TABLE "Users" ADD c int'),
    ("format('%2$s %1$s', 'b', 'a')", "a b"),
    ("format('%L', 'it''s')", "'it''s'"),
    ("format('100%%')", "100%"),
    ("E'a\\nb'", "a\nb"),
    ("$q$ DROP TABLE t $q$", " DROP TABLE t "),
    ("'x'::text || 1", "x1"),
])
def test_static_text(expr, text):
    assert static_text(expr) == text


@pytest.mark.parametrize("expr", ["v", "'DROP TABLE ' || v", "format(v)", "format('%s', v)", "format('%10s', 'a')",
                                  "upper('x')",
                                  # no target list of its own (was a TypeError, not a refusal)
                                  "'a' UNION SELECT 'b'"])
def test_dynamic_text_is_refused(expr):
    from migrator.sql.plpgsql import _Dynamic

    with pytest.raises(_Dynamic):
        static_text(expr)


def test_github_sarif_and_json_point_at_the_inner_line(tmp_path, monkeypatch):
    from migrator.api import classify_paths
    from migrator.report import render

    monkeypatch.chdir(tmp_path)
    (tmp_path / "0001.sql").write_text("SET lock_timeout = '2s';\nDO $$\nBEGIN\n"
                                       "  ALTER TABLE users DROP COLUMN legacy;\nEND $$;\n")
    report = classify_paths([str(tmp_path / "0001.sql")])
    github = [line for line in render(report, "github").splitlines() if "C317" in line]
    assert len(github) == 1 and "line=4," in github[0] and "endLine" not in github[0]
    sarif = json.loads(render(report, "sarif"))
    (result,) = [r for r in sarif["runs"][0]["results"] if r["ruleId"] == "C317"]
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == 4
    data = json.loads(render(report, "json"))
    (block,) = [s for s in data["migrations"][0]["statements"] if s["sql"].startswith("DO")]
    assert block["line"] == 2 and block["phase"] == "contract"
    assert [(f["rule"], f["line"]) for f in block["findings"]] == [("C317", 4)]


class _Rendered:
    """What _map_lines reads of an alembic rendering: the revision-file line of each rendered SQL line."""

    def __init__(self, line):
        self.line = line

    def source_line(self, _):
        return self.line


def test_alembic_revision_inner_lines_follow_the_op_call():
    from migrator.classify.alembic_source import _map_lines

    sql = "DO $$\nBEGIN\n  ALTER TABLE users DROP COLUMN legacy;\nEND $$;"
    text = ('def upgrade():\n    op.execute("""DO $$\nBEGIN\n  ALTER TABLE users DROP COLUMN legacy;\n'
            'END $$""")\n')
    report = classify_sql(sql, "rev.py")
    _map_lines(report, _Rendered(2), text, (1, 5))
    (finding,) = [f for f in report.statements[0].findings if f.rule == "C317"]
    assert report.statements[0].line == 2 and finding.line == 4 and finding.message.startswith("line 4: ")

    # where the SQL stands in the file is unknown (built in Python): the line counts in the statement
    report = classify_sql(sql, "rev.py")
    _map_lines(report, _Rendered(2), "def upgrade():\n    op.execute(build_sql())\n", (1, 2))
    (finding,) = [f for f in report.statements[0].findings if f.rule == "C317"]
    assert finding.line is None and finding.message.startswith("line 3 of the statement: ")


def test_inner_line_survives_the_spool():
    from migrator.model import StatementReport

    stmt = only("DO $$\nBEGIN\n  ALTER TABLE users DROP COLUMN legacy;\nEND $$;")
    again = StatementReport.from_record(stmt.to_record())
    assert [(f.rule, f.line) for f in again.findings] == [(f.rule, f.line) for f in stmt.findings]
    assert ("C317", 3) in [(f.rule, f.line) for f in again.findings]


_PIECES = ["BEGIN", "END", ";", "IF", "THEN", "END IF", "LOOP", "END LOOP", "EXECUTE", "'x'", "||", "format(",
           ")", "(", "%I", "v", "DECLARE v text;", "EXCEPTION WHEN others THEN", "NULL", "RAISE", "DROP TABLE t",
           "ALTER TABLE t ADD COLUMN c int", "UPDATE t SET a = 1", "COMMIT", "<<l>>", "$q$", "\n", "FOR r IN"]


def test_any_body_is_read_or_fails_closed():
    hypothesis = pytest.importorskip("hypothesis")
    st = hypothesis.strategies

    @hypothesis.settings(max_examples=150, deadline=None)
    @hypothesis.given(st.lists(st.sampled_from(_PIECES), max_size=25))
    def run(pieces):
        body = " ".join(pieces).replace("$$", "")
        report = classify_sql(f"DO $$ {body} $$;", "fuzz.sql")
        (stmt,) = report.statements
        if "U000" in stmt.rules:
            assert stmt.phase is Phase.CONTRACT

    run()


def test_nested_blocks_are_read_and_absurd_nesting_fails_closed():
    def nested(depth):
        return "DO $$ " + "BEGIN " * depth + "UPDATE t SET a = 1; " + "END; " * (depth - 1) + "END $$;"

    assert only(nested(20)).phase is Phase.MIGRATE
    deep = only(nested(3000))
    assert deep.phase is Phase.CONTRACT and "U000" in deep.rules
