"""What a real database's catalog tells the classifier: column types, NOT NULL, CHECK constraints, the
triggers and views that call each function, row level security policies.

    knowledge = knowledge_from_catalog(conn)            # psycopg connection to blue's (or the live) database
    classify_revisions(ini, "0007:head", config, knowledge=knowledge)

A revision that widens `users.username` from VARCHAR(128) to VARCHAR(256) is a catalog-only change only
if the old type is known. Classifying green's revisions alone (blue's head..green's head) does not know
it: the column was created by an older revision. Blue's actual schema does: the template compat builds
from blue's history, or the live database `migrator plan` reads.
"""

from __future__ import annotations

import re

from migrator.rules import SchemaKnowledge, table_key

_COLUMNS = """
SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'f') AND a.attnum > 0 AND NOT a.attisdropped
  AND n.nspname <> 'information_schema' AND n.nspname !~ '^pg_' AND n.nspname <> ALL(%s)
"""
_CHECKS = """
SELECT c.relname, con.convalidated, pg_get_constraintdef(con.oid),
       ARRAY(SELECT a.attname FROM pg_attribute a WHERE a.attrelid = con.conrelid AND a.attnum = ANY(con.conkey))
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE con.contype = 'c' AND n.nspname <> 'information_schema' AND n.nspname !~ '^pg_' AND n.nspname <> ALL(%s)
"""
_TRIGGERS = """
SELECT p.proname, t.tgname, c.relname
FROM pg_trigger t
JOIN pg_proc p ON p.oid = t.tgfoid
JOIN pg_class c ON c.oid = t.tgrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE NOT t.tgisinternal AND n.nspname <> 'information_schema' AND n.nspname !~ '^pg_' AND n.nspname <> ALL(%s)
"""
_VIEW_FUNCTIONS = """
SELECT DISTINCT p.proname, v.relname
FROM pg_depend d
JOIN pg_rewrite r ON r.oid = d.objid
JOIN pg_class v ON v.oid = r.ev_class
JOIN pg_proc p ON p.oid = d.refobjid
JOIN pg_namespace n ON n.oid = v.relnamespace
JOIN pg_namespace pn ON pn.oid = p.pronamespace
WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_proc'::regclass AND v.relkind IN ('v', 'm')
  AND pn.nspname <> 'information_schema' AND pn.nspname !~ '^pg_'
  AND n.nspname <> 'information_schema' AND n.nspname !~ '^pg_' AND n.nspname <> ALL(%s)
"""
_POLICIES = """
SELECT c.relname, pol.polname, pol.polpermissive,
       pol.polroles = '{0}' AND pol.polcmd IN ('*', 'r') AND pg_get_expr(pol.polqual, pol.polrelid) = 'true'
FROM pg_policy pol
JOIN pg_class c ON c.oid = pol.polrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname <> 'information_schema' AND n.nspname !~ '^pg_' AND n.nspname <> ALL(%s)
"""
_NOT_NULL_CHECK = re.compile(r'^CHECK \(\(("?)([^"()\s]+)\1 IS NOT NULL\)\)$')


def knowledge_from_catalog(conn, exclude_schemas: tuple[str, ...] = ("migrator",)) -> SchemaKnowledge:
    """SchemaKnowledge seeded with every user table's column types, NOT NULL columns, the columns CHECK
    constraints read, validated CHECK (col IS NOT NULL) constraints, the functions triggers and views call, and
    the policies of each table. `conn`: a psycopg connection."""
    from sqlglot import exp

    column_types: dict = {}
    not_null: set = set()
    checked: set = set()
    not_null_checks: set = set()
    excluded = list(exclude_schemas)
    for table, column, type_text, attnotnull in conn.execute(_COLUMNS, (excluded,)).fetchall():
        key = (table_key(table), column.lower())
        try:
            column_types[key] = exp.DataType.build(type_text, dialect="postgres")
        except Exception:  # noqa: BLE001 - a type sqlglot cannot read stays unknown (the rules assume the worst)
            pass
        if attnotnull:
            not_null.add(key)
    for table, validated, definition, columns in conn.execute(_CHECKS, (excluded,)).fetchall():
        for column in columns or []:
            checked.add((table_key(table), column.lower()))
        match = _NOT_NULL_CHECK.match(definition or "")
        if validated and match:
            not_null_checks.add((table_key(table), match.group(2).lower()))
    # the triggers and views that call each function (E122), the row level security policies per table (C331)
    function_users: dict = {}
    for function, trigger, table in conn.execute(_TRIGGERS, (excluded,)).fetchall():
        function_users.setdefault(function, set()).add(f"trigger {trigger} on {table}")
    for function, view in conn.execute(_VIEW_FUNCTIONS, (excluded,)).fetchall():
        function_users.setdefault(function, set()).add(f"view {view}")
    policies: dict = {}
    for table, name, permissive, admits_all in conn.execute(_POLICIES, (excluded,)).fetchall():
        policies.setdefault(table_key(table), {})[name] = \
            "restrictive" if not permissive else "all" if admits_all else "some"
    knowledge = SchemaKnowledge()
    knowledge.facts = {"column_types": column_types, "not_null_columns": not_null, "checked_columns": checked,
                       "not_null_checks": not_null_checks, "function_users": function_users,
                       "policies": policies}
    return knowledge


def knowledge_from_url(url: str, exclude_schemas: tuple[str, ...] = ("migrator",)) -> SchemaKnowledge:
    import psycopg

    from migrator.db.urls import DatabaseURL

    with psycopg.connect(DatabaseURL.parse(url).libpq(), connect_timeout=10) as conn:
        return knowledge_from_catalog(conn, exclude_schemas)
