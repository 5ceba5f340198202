"""Alembic revisions: offline rendering, declared phases, suppressions, ranges, errors, the demo app.

Everything runs real alembic on the projects in tests/data/alembic/ and on the demo app at the
repository root; no database is contacted except by the tests marked `postgres`, which run the
demo's revisions online against the real server to prove the expand/migrate/contract sequence.
"""

from __future__ import annotations

import configparser
import json
from pathlib import Path

import pytest

from migrator import api
from migrator.classify.alembic_source import read_module, version_table_skip
from migrator.config import Config
from migrator.errors import ConfigError, UsageError
from migrator.phases import Phase
from migrator.sql.split import split_statements
from tests._cli import assert_one_line_error, run

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parents[1] / "data" / "alembic"
LINT = DATA / "lint" / "alembic.ini"
BRANCHES = DATA / "branches" / "alembic.ini"
CUSTOM = DATA / "custom_env" / "alembic.ini"
DEMO = ROOT / "alembic.ini"


def classify(ini: Path, revision_range: str | None = None, *, lint: bool = False, config: Config | None = None):
    config = config or Config()
    report = api.classify_alembic(str(ini), revision_range, config=config)
    if lint:
        api.check_declared_phases(report, config)
    return report


def by_revision(report):
    return {m.revision: m for m in report.migrations}


def rules(migration, *, suppressed: bool | None = False) -> set[str]:
    """Rule ids of the migration's findings (statement and migration level)."""
    found = [f for s in migration.statements for f in s.findings] + migration.findings
    if suppressed is not None:
        found = [f for f in found if (f.suppressed is not None) == suppressed]
    return {f.rule for f in found}


def sqls(migration) -> list[str]:
    return [" ".join(s.sql.split()) for s in migration.statements]


@pytest.fixture
def in_root(monkeypatch):
    monkeypatch.chdir(ROOT)
    return ROOT


# --- the demo app ------------------------------------------------------------------------------------------


def test_demo_revisions_classify_as_declared(in_root):
    report = api.demo()
    migrations = by_revision(report)
    assert list(migrations) == ["0001", "0002", "0003", "0004", "0005"]
    expected = {"0001": Phase.EXPAND, "0002": Phase.EXPAND, "0003": Phase.EXPAND, "0004": Phase.MIGRATE,
                "0005": Phase.CONTRACT}
    for rev, phase in expected.items():
        m = migrations[rev]
        assert m.phase is phase, (rev, m.phase, sqls(m))
        assert m.declared_phase is phase
        assert not m.mixed and m.error is None
        assert "P507" not in rules(m, suppressed=None)
    assert api.phase_summary(report) == [
        "0001 expand (declared expand) ok",
        "0002 expand (declared expand) ok",
        "0003 expand (declared expand) ok",
        "0004 migrate (declared migrate) ok",
        "0005 contract (declared contract) ok",
    ]
    assert api.demo_exit_code(report) == 0


def test_demo_every_statement_is_understood(in_root):
    """No U000 anywhere in the demo: each statement is claimed by a rule (fails until the rules exist)."""
    report = api.demo()
    missing = [(m.revision, " ".join(s.sql.split())) for m in report.migrations for s in m.statements
               if "U000" in s.rules]
    assert not missing, missing


def test_demo_sql_is_the_offline_rendering(in_root):
    migrations = by_revision(api.classify_alembic("alembic.ini"))
    assert migrations["0003"].source == "migrations/versions/0003_users_full_name_expand.py"
    s3 = sqls(migrations["0003"])
    assert s3[0] == "SET lock_timeout = '500ms'"
    assert s3[1] == "ALTER TABLE users ADD COLUMN full_name TEXT"
    assert s3[2].startswith("CREATE FUNCTION users_sync_full_name() RETURNS trigger")
    assert s3[3].startswith("CREATE TRIGGER users_sync_full_name BEFORE INSERT OR UPDATE ON users")
    # 0004 backfills outside the DDL transaction (autocommit_block): COMMIT; UPDATE; BEGIN
    assert sqls(migrations["0004"]) == ["COMMIT", "UPDATE users SET full_name = name WHERE full_name IS NULL", "BEGIN"]
    assert "M203" in rules(migrations["0004"], suppressed=True)  # reviewed in the revision file, with a reason
    assert sqls(migrations["0005"]) == [
        "SET lock_timeout = '500ms'",
        "ALTER TABLE users DROP CONSTRAINT IF EXISTS users_full_name_not_null",
        "ALTER TABLE users ADD CONSTRAINT users_full_name_not_null CHECK (full_name IS NOT NULL) NOT VALID",
        "COMMIT",
        "ALTER TABLE users VALIDATE CONSTRAINT users_full_name_not_null",
        "BEGIN",
        "ALTER TABLE users ALTER COLUMN full_name SET NOT NULL",
        "ALTER TABLE users DROP CONSTRAINT users_full_name_not_null",
        "DROP TRIGGER IF EXISTS users_sync_full_name ON users",  # with the column it fills (P509)
        "DROP FUNCTION IF EXISTS users_sync_full_name()",
        "ALTER TABLE users DROP COLUMN IF EXISTS name",
    ]
    # the CHECK validated in its own transaction proves NOT NULL: no scan under ACCESS EXCLUSIVE
    set_not_null = migrations["0005"].statements[6]
    assert set_not_null.rewrite.label == "none" and "C305" in set_not_null.rules
    for m in migrations.values():
        assert not any("alembic_version" in s for s in sqls(m)), m.revision
        assert "P504" not in rules(m, suppressed=None), m.revision  # alembic's transaction is balanced


def test_demo_statement_lines_point_into_the_revision_file(in_root):
    m = by_revision(api.classify_alembic("alembic.ini"))["0005"]
    lines = Path(m.source).read_text().splitlines()
    drop_trigger = m.statements[8]
    assert lines[drop_trigger.line - 1][drop_trigger.column - 1:].startswith("DROP TRIGGER IF EXISTS users_sync_full_name")
    # op.create_check_constraint() has no SQL text in the file: the statement points at the op call
    assert lines[m.statements[2].line - 1].strip().startswith("op.create_check_constraint(")
    assert m.statements[2].column == lines[m.statements[2].line - 1].index("op.") + 1


def test_demo_ini_holds_no_password_and_env_reads_database_url(in_root, monkeypatch):
    from sqlalchemy.engine import make_url

    parser = configparser.ConfigParser()
    parser.read(DEMO)
    assert make_url(parser.get("alembic", "sqlalchemy.url")).password is None
    assert "DATABASE_URL" in (ROOT / "migrations" / "env.py").read_text()
    # offline rendering uses the URL for its dialect only: an unreachable host is fine
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://app:secret@db.invalid:1/app")
    report = api.classify_alembic("alembic.ini")
    assert [m.phase.label for m in report.migrations] == ["expand", "expand", "expand", "migrate", "contract"]


def test_demo_found_from_another_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    report = api.demo()
    assert len(report.migrations) == 5
    assert Path(report.migrations[0].source).is_absolute()
    assert report.migrations[0].source == str(ROOT / "migrations" / "versions" / "0001_create_users.py")


def test_demo_config_missing(tmp_path, monkeypatch):
    import migrator.classify.alembic_source as source

    monkeypatch.chdir(tmp_path)
    fake = tmp_path / "pkg" / "migrator" / "classify" / "alembic_source.py"  # a copy of migrator without the demo
    fake.parent.mkdir(parents=True)
    fake.write_text("")
    monkeypatch.setattr(source, "__file__", str(fake))
    with pytest.raises(ConfigError, match="no alembic.ini"):
        source.find_demo_config()


# --- the demo app online: the zero-downtime rename really works ---------------------------------------------


@pytest.fixture
def scratch_database(throwaway_db):
    return throwaway_db.sa_url


@pytest.mark.usefixtures("pg_server")
def test_demo_runs_online_blue_and_green_side_by_side(scratch_database, monkeypatch):
    from alembic import command
    from alembic.config import Config as AlembicConfig
    from sqlalchemy import create_engine, text

    import logging

    monkeypatch.setenv("DATABASE_URL", scratch_database)
    cfg = AlembicConfig(str(DEMO))
    engine = create_engine(scratch_database)
    loggers = dict(logging.root.manager.loggerDict)  # the demo's env.py configures logging (fileConfig)
    root_handlers, root_level = list(logging.root.handlers), logging.root.level
    try:
        command.upgrade(cfg, "0002")  # blue v1
        with engine.begin() as c:
            c.execute(text("INSERT INTO users (name, email) VALUES ('Ada', 'ada@example.com')"))
        command.upgrade(cfg, "0003")  # expand: blue and green both run now
        with engine.begin() as c:
            c.execute(text("INSERT INTO users (name, email) VALUES ('Blue Writer', 'blue@example.com')"))
            c.execute(text("INSERT INTO users (full_name, email) VALUES ('Green Writer', 'green@example.com')"))
            c.execute(text("UPDATE users SET name = 'Blue Renamed' WHERE email = 'blue@example.com'"))
            rows = dict(c.execute(text("SELECT email, (name, full_name)::text FROM users")).all())
        assert rows["ada@example.com"] == "(Ada,)"  # written before 0003: backfilled by 0004
        assert rows["blue@example.com"] == '("Blue Renamed","Blue Renamed")'
        assert rows["green@example.com"] == '("Green Writer","Green Writer")'
        command.upgrade(cfg, "0004")  # migrate
        with engine.begin() as c:
            assert c.execute(text("SELECT count(*) FROM users WHERE full_name IS NULL")).scalar() == 0
        command.upgrade(cfg, "0005")  # contract: blue is gone
        with engine.begin() as c:
            columns = c.execute(text("SELECT column_name, is_nullable FROM information_schema.columns "
                                     "WHERE table_name = 'users' ORDER BY ordinal_position")).all()
            assert ("name", "NO") not in columns and ("full_name", "NO") in columns
            c.execute(text("INSERT INTO users (full_name, email) VALUES ('After', 'after@example.com')"))
        command.downgrade(cfg, "base")
    finally:
        engine.dispose()
        logging.root.handlers[:] = root_handlers
        logging.root.setLevel(root_level)
        for name, lg in logging.root.manager.loggerDict.items():
            if isinstance(lg, logging.Logger) and name in loggers:
                lg.disabled = False


@pytest.mark.usefixtures("pg_server")
def test_demo_contract_keeps_green_inserts_working_between_its_transactions(scratch_database, monkeypatch):
    """D8: 0005 commits its first part before VALIDATE; green (which writes full_name only) must be able to
    insert between that commit and the second part, where users.name is dropped."""
    from alembic import command
    from alembic.config import Config as AlembicConfig
    from sqlalchemy import create_engine, text

    import logging

    monkeypatch.setenv("DATABASE_URL", scratch_database)
    cfg = AlembicConfig(str(DEMO))
    engine = create_engine(scratch_database)
    loggers = dict(logging.root.manager.loggerDict)  # the demo's env.py configures logging (fileConfig)
    root_handlers, root_level = list(logging.root.handlers), logging.root.level
    try:
        command.upgrade(cfg, "0004")
        statements = sqls(by_revision(api.classify_alembic(str(DEMO), "0004:0005"))["0005"])
        first_part = statements[:statements.index("COMMIT")]
        with engine.begin() as c:
            for sql in first_part:
                c.exec_driver_sql(sql)
        with engine.begin() as c:  # green, between the two transactions of the contract revision
            c.execute(text("INSERT INTO users (full_name, email) VALUES ('Green Writer', 'green@example.com')"))
            row = c.execute(text("SELECT name, full_name FROM users WHERE email = 'green@example.com'")).one()
        assert tuple(row) == ("Green Writer", "Green Writer")
        command.upgrade(cfg, "0005")  # the whole revision again (re-runnable), then the second part
        with engine.begin() as c:
            c.execute(text("INSERT INTO users (full_name, email) VALUES ('After', 'after@example.com')"))
    finally:
        engine.dispose()
        logging.root.handlers[:] = root_handlers
        logging.root.setLevel(root_level)
        for name, lg in logging.root.manager.loggerDict.items():
            if isinstance(lg, logging.Logger) and name in loggers:
                lg.disabled = False


def test_demo_release_has_no_trigger_dropped_before_its_column(in_root):
    report = api.classify_alembic("alembic.ini")
    assert not [(m.revision, f.message) for m in report.migrations for f in m.all_findings() if f.rule == "P509"]


# --- the lint project: one revision per case --------------------------------------------------------------


@pytest.fixture(scope="module")
def lint_report():
    return by_revision(classify(LINT, lint=True))


def test_lint_project_walks_base_to_head(lint_report):
    assert list(lint_report) == [f"l{i:03d}" for i in range(1, 14)]
    for m in lint_report.values():
        assert not any("alembic_version" in s for s in sqls(m)), m.revision


def test_declared_phase_that_agrees(lint_report):
    m = lint_report["l001"]
    assert (m.phase, m.declared_phase) == (Phase.EXPAND, Phase.EXPAND)
    assert "P507" not in rules(m)


def test_declared_phase_that_disagrees_is_p507(lint_report):
    m = lint_report["l002"]
    assert (m.phase, m.declared_phase) == (Phase.CONTRACT, Phase.EXPAND)
    (finding,) = [f for f in m.findings if f.rule == "P507"]
    assert "declared expand" in finding.message and "contract" in finding.message
    assert finding.suppressed is None


def test_mixed_revision_is_p505_not_p507(lint_report):
    m = lint_report["l003"]
    assert m.mixed and m.phase is Phase.CONTRACT and m.declared_phase is Phase.CONTRACT
    assert "P505" in rules(m) and "P507" not in rules(m, suppressed=None)


def test_file_suppression_with_reason_covers_the_whole_revision(lint_report):
    m = lint_report["l004"]
    assert {"P507", "C317"} <= rules(m, suppressed=True)
    assert not rules(m) & {"P507", "C317", "P508"}
    assert {f.suppressed for f in m.findings if f.rule == "P507"} == {"accounts.scratch was never released to blue"}


def test_revision_that_cannot_render_offline_is_u000_not_an_error(lint_report):
    m = lint_report["l005"]
    assert m.error is None and m.phase is Phase.CONTRACT
    (finding,) = [f for f in m.findings if f.rule == "U000"]
    assert finding.message.startswith("revision l005 cannot render in offline mode: AttributeError")
    assert "\n" not in finding.message
    assert "P507" not in rules(m, suppressed=None)  # nothing was classified: the declared phase is unverifiable
    assert api.verdict(m) == "UNREADABLE"


def test_invalid_declared_phase_is_a_clear_finding(lint_report):
    m = lint_report["l006"]
    assert m.declared_phase is None
    (finding,) = [f for f in m.findings if f.rule == "P507"]
    assert "'expnad'" in finding.message and "expand, migrate or contract" in finding.message
    assert finding.message.startswith("line 10:")


def test_own_branch_label_declares_the_phase(lint_report):
    m = lint_report["l007"]
    assert (m.phase, m.declared_phase) == (Phase.MIGRATE, Phase.MIGRATE)


def test_empty_upgrade_is_phase_none(lint_report):
    m = lint_report["l008"]
    assert m.phase is Phase.NONE and m.statements == [] and m.error is None
    assert "P507" not in rules(m, suppressed=None)


def test_suppression_without_reason_is_p508_and_suppresses_nothing(lint_report):
    m = lint_report["l009"]
    assert "P508" in rules(m) and "C317" in rules(m)
    assert "line 11" in next(f.message for f in m.findings if f.rule == "P508")


def test_branch_label_and_module_attribute_that_disagree(lint_report):
    m = lint_report["l010"]
    assert m.declared_phase is None
    assert any(f.rule == "P507" and "branch label" in f.message for f in m.findings)


def test_comment_inside_op_execute_applies_to_its_statement(lint_report):
    m = lint_report["l011"]
    # alembic appends `;` after the trailing comment; the statements must still be apart
    assert sqls(m)[1:] == ["ALTER TABLE accounts DROP COLUMN locale", "ALTER TABLE accounts DROP COLUMN timezone"]
    locale, timezone = m.statements[1:]
    assert [f.suppressed for f in locale.findings if f.rule == "C317"] == ["locale moved to profiles"]
    assert [f.suppressed for f in timezone.findings if f.rule == "C317"] == [None]
    assert (locale.line, locale.column, timezone.line, timezone.column) == (14, 17, 15, 17)


def test_alembic_transaction_is_seen_by_the_rules(lint_report):
    assert "P506" in rules(lint_report["l012"])  # CREATE INDEX CONCURRENTLY inside alembic's BEGIN ... COMMIT
    assert all("P504" not in rules(m, suppressed=None) for m in lint_report.values())


def test_labels_do_not_spread_along_a_linear_history(lint_report):
    assert lint_report["l013"].declared_phase is None


def test_classify_without_lint_has_no_mismatch_findings():
    migrations = by_revision(classify(LINT, "l001:l004"))
    assert all("P507" not in rules(m, suppressed=None) for m in migrations.values())
    assert migrations["l002"].declared_phase is Phase.EXPAND


def test_check_declared_is_idempotent():
    report = classify(LINT, "l002", lint=True)
    api.check_declared_phases(report, Config())
    assert [f.rule for f in report.migrations[0].findings].count("P507") == 1


def test_config_disable_and_severity_apply_to_alembic_findings():
    config = Config(disable={"P507"})
    report = classify(LINT, "l001:l006", lint=True, config=config)
    assert all("P507" not in rules(m, suppressed=None) for m in report.migrations)
    from migrator.phases import Severity

    config = Config(severity={"U000": Severity.WARNING})
    m = by_revision(classify(LINT, "l005", config=config))["l005"]
    assert [f.severity for f in m.findings if f.rule == "U000"] == [Severity.WARNING]


# --- ranges ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("revision_range, expected", [
    (None, [f"l{i:03d}" for i in range(1, 14)]),
    ("base:head", [f"l{i:03d}" for i in range(1, 14)]),
    ("l002:l004", ["l003", "l004"]),  # BASE is already applied, as in `alembic upgrade l002:l004 --sql`
    (":l002", ["l001", "l002"]),
    ("l011:", ["l012", "l013"]),
    ("l006", ["l006"]),  # one revision
    ("head", ["l013"]),
    ("l013:head", []),
])
def test_revision_ranges(revision_range, expected):
    assert [m.revision for m in classify(LINT, revision_range).migrations] == expected


@pytest.mark.parametrize("revision_range, message", [
    ("zzz", "zzz"),
    ("l001:nope", "nope"),
    ("l004:l002", "does not come after"),
    ("base", "selects no revision"),
    ("l001:base", "selects no revision"),
    ("a:b:c", "BASE:HEAD"),
])
def test_bad_ranges_are_usage_errors(revision_range, message):
    with pytest.raises(UsageError, match=message):
        classify(LINT, revision_range)


# --- branches ----------------------------------------------------------------------------------------------


def test_multiple_heads_need_an_explicit_head():
    with pytest.raises(ConfigError, match=r"multiple heads \(c003, e002\)"):
        classify(BRANCHES)
    with pytest.raises(ConfigError, match="multiple heads"):
        classify(BRANCHES, "base:head")


def test_branch_labels_are_inherited_along_their_branch():
    migrations = by_revision(classify(BRANCHES, "base:heads", lint=True))
    assert set(migrations) == {"e001", "e002", "c001", "c002", "c003"}
    declared = {rev: m.declared_phase for rev, m in migrations.items()}
    assert declared == {"e001": Phase.EXPAND, "e002": Phase.EXPAND, "c001": Phase.CONTRACT,
                        "c002": Phase.CONTRACT, "c003": Phase.MIGRATE}  # c003: the module attribute wins
    assert "P507" in rules(migrations["c002"])  # on the contract branch, but only adds a column
    assert all("P507" not in rules(migrations[r]) for r in ("e001", "e002", "c001", "c003"))


def test_branch_label_ranges():
    assert [m.revision for m in classify(BRANCHES, "base:expand@head").migrations] == ["e001", "e002"]
    assert [m.revision for m in classify(BRANCHES, "c001:c003").migrations] == ["c002", "c003"]


# --- a customised env.py -----------------------------------------------------------------------------------


def test_custom_version_table_and_transaction_per_migration():
    migrations = by_revision(classify(CUSTOM))
    k001, k002 = migrations["k001"], migrations["k002"]
    # the project's version table is meta.schema_history: a user table named alembic_version is classified
    assert sqls(k001)[0] == "BEGIN" and sqls(k001)[-1] == "COMMIT"
    assert any(s.startswith("CREATE TABLE alembic_version") for s in sqls(k001))
    assert not any("schema_history" in s for m in migrations.values() for s in sqls(m))
    # autocommit_block: the concurrent index runs outside the per-migration transaction
    assert "CREATE INDEX CONCURRENTLY ix_items_name ON items (name)" in sqls(k002)
    assert "P506" not in rules(k002, suppressed=None)
    assert all("P504" not in rules(m, suppressed=None) for m in migrations.values())


@pytest.mark.parametrize("sql, table, schema, skipped", [
    ("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)", "alembic_version", None, True),
    ("INSERT INTO alembic_version (version_num) VALUES ('a1')", "alembic_version", None, True),
    ("UPDATE alembic_version SET version_num='b2' WHERE alembic_version.version_num = 'a1'", "alembic_version", None,
     True),
    ("DELETE FROM alembic_version WHERE version_num = 'a1'", "alembic_version", None, True),
    ("UPDATE meta.schema_history SET version_num='b2'", "schema_history", "meta", True),
    ("UPDATE schema_history SET version_num='b2'", "schema_history", "meta", False),
    ("UPDATE public.alembic_version SET version_num='b2'", "alembic_version", None, False),
    ("UPDATE alembic_version_backup SET version_num='b2'", "alembic_version", None, False),
    ("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)", "schema_history", None, False),
    ("SELECT * FROM alembic_version", "alembic_version", None, False),
    ("DROP TABLE alembic_version", "alembic_version", None, False),
])
def test_version_table_skip(sql, table, schema, skipped):
    (stmt,) = split_statements(sql)
    assert version_table_skip(table, schema)(stmt) is skipped


@pytest.mark.parametrize("source, phase, error", [
    ('phase = "expand"\n', Phase.EXPAND, None),
    ("phase: str = 'Contract'\n", Phase.CONTRACT, None),
    ('phase = "none"\n', None, "'none'"),
    ("phase = 3\n", None, "string literal"),
    ('phase = PHASES["x"]\n', None, "string literal"),
    ('phase = "expand"\nphase = "migrate"\n', Phase.MIGRATE, None),
    ("PHASE = 'expand'\n", None, None),
    ("def f():\n    phase = 'expand'\n", None, None),
])
def test_module_phase_is_read_with_ast(source, phase, error):
    facts = read_module(source)
    assert facts.phase is phase
    if error is None:
        assert facts.phase_error is None
    else:
        assert error in facts.phase_error


# --- configuration errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize("project, message", [
    ("broken_ini", "invalid alembic config"),
    ("no_script_location", "no script_location"),
    ("bad_env", "cannot run env.py in offline mode: ModuleNotFoundError"),
    ("missing_env", "no env.py"),
    ("bad_revision", "cannot load the revisions"),
    ("does_not_exist", "alembic config not found"),
])
def test_broken_projects_are_config_errors(project, message):
    with pytest.raises(ConfigError, match=message) as info:
        classify(DATA / project / "alembic.ini")
    assert "\n" not in str(info.value)


def test_directory_instead_of_ini():
    with pytest.raises(ConfigError, match="not a file"):
        classify(DATA / "lint")


def test_ini_without_alembic_section(tmp_path):
    ini = tmp_path / "alembic.ini"
    ini.write_text("[other]\nkey = value\n")
    with pytest.raises(ConfigError, match=r"no \[alembic\] section"):
        classify(ini)


def test_logging_configured_by_env_py_is_undone():
    import logging

    before = (logging.root.level, list(logging.root.handlers), logging.root.manager.disable)
    classify(LINT, "l001")  # its env.py configures a root handler on stdout at INFO
    assert (logging.root.level, list(logging.root.handlers), logging.root.manager.disable) == before


# --- the command line --------------------------------------------------------------------------------------


def test_cli_demo_text_and_exit_0():
    result = run("demo", "--classify-only", cwd=ROOT)
    assert result.code == 0, result.err
    assert result.out.rstrip().splitlines()[-5:] == [
        "0001 expand (declared expand) ok",
        "0002 expand (declared expand) ok",
        "0003 expand (declared expand) ok",
        "0004 migrate (declared migrate) ok",
        "0005 contract (declared contract) ok",
    ]
    assert result.out.startswith("EXPAND  migrations/versions/0001_create_users.py")
    assert "INFO" not in result.err  # alembic's logging stays quiet


def test_cli_demo_json_keeps_stdout_parseable():
    result = run("demo", "--classify-only", "--format", "json", cwd=ROOT)
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert [m["revision"] for m in data["migrations"]] == ["0001", "0002", "0003", "0004", "0005"]
    assert [m["declared_phase"] for m in data["migrations"]] == ["expand", "expand", "expand", "migrate", "contract"]
    assert "0005 contract (declared contract) ok" in result.err


def test_cli_stdout_holds_only_the_report():
    # the lint project's env.py prints, and its logging config writes INFO records to stdout
    result = run("classify", "-c", str(LINT), "--range", "l001", "--format", "json")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert [m["revision"] for m in data["migrations"]] == ["l001"]
    assert "must not reach stdout" in result.err


@pytest.mark.parametrize("command, revision_range, code", [
    ("lint", "l001", 0),
    ("lint", "l002", 1),  # declared expand, drops a column
    ("lint", "l003", 1),  # mixed
    ("lint", "l004", 0),  # mismatch suppressed with a reason
    ("classify", "l002", 0),  # classify does not compare declared phases
    ("classify", "l005", 1),  # cannot render offline: U000 (error), not exit 2
    ("lint", "l006", 1),  # invalid declared phase
])
def test_cli_exit_codes(command, revision_range, code):
    result = run(command, "-c", str(LINT), "--range", revision_range)
    assert result.code == code, (result.out, result.err)
    assert "Traceback" not in result.err


@pytest.mark.parametrize("args, contains", [
    (["-c", str(DATA / "broken_ini" / "alembic.ini")], "invalid alembic config"),
    (["-c", str(DATA / "bad_env" / "alembic.ini")], "env.py"),
    (["-c", str(BRANCHES)], "multiple heads"),
    (["-c", str(LINT), "--range", "nope"], "nope"),
])
def test_cli_config_errors_exit_2(args, contains):
    result = run("lint", *args)
    assert_one_line_error(result, code=2, contains=contains)
    assert result.out == ""
