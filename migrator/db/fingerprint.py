"""A fingerprint of a database's schema: sha256 over a normalised dump of the catalog.

    schema_fingerprint(url or conn, exclude_schema="migrator")  -> "3f1c...e9" (64 hex digits)
    schema_dump(url)         -> the normalised text it hashes (one object per line, sorted: diff two of them)

Covers the user schemas (not pg_catalog, information_schema, pg_toast, temp schemas, nor objects that belong
to an extension): schemas, tables / partitioned / foreign tables, views and materialized views (definition),
composite types, columns (logical position, type, nullability, default, identity, generated, collation),
constraints (pg_get_constraintdef), indexes (pg_get_indexdef, validity), sequences (parameters, owner
column), functions and procedures (pg_get_functiondef: arguments, result, language, body, attributes),
aggregates, triggers (pg_get_triggerdef, enabled), rules, row-level security policies, enums (labels in
order), domains, range types, extended statistics, extensions (name, version, schema).

Independent of the data, of the database name and of OIDs (every name is rendered schema-qualified under a
fixed search_path and fixed DateStyle / TimeZone / IntervalStyle, so the session's settings do not leak in).
Left out: owners, privileges, comments, tablespaces, the alembic version table (shape and contents).
One connection, one catalog query.
"""

from __future__ import annotations

import hashlib
import re

from migrator.errors import MigratorError

EXCLUDED_TABLES = ("alembic_version",)


class SchemaReadError(MigratorError):
    """The schema of a database could not be read (exit 2)."""


# Session settings that change how pg_get_*def and format_type render names and constants.
_OPTIONS = ("-c search_path=pg_catalog -c DateStyle=ISO,YMD -c IntervalStyle=postgres -c TimeZone=UTC "
            "-c extra_float_digits=1 -c lc_monetary=C")
_SET_LOCAL = ("SELECT set_config('search_path', 'pg_catalog', true), set_config('DateStyle', 'ISO, YMD', true), "
              "set_config('IntervalStyle', 'postgres', true), set_config('TimeZone', 'UTC', true), "
              "set_config('extra_float_digits', '1', true), set_config('lc_monetary', 'C', true)")

# Every row: (kind, name, definition). Names are schema-qualified, quoted with quote_ident where needed.
_QUERY = r"""
WITH nsp AS (
    SELECT n.oid, n.nspname
    FROM pg_namespace n
    WHERE n.nspname <> 'information_schema' AND n.nspname !~ '^pg_'
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_namespace'::regclass
                      AND d.objid = n.oid AND d.deptype = 'e')
),
rel AS (
    SELECT c.oid, c.relname, c.relkind, c.relpersistence, c.reloptions, c.relrowsecurity, c.relforcerowsecurity,
           c.relispartition, c.relpartbound, nsp.nspname,
           quote_ident(nsp.nspname) || '.' || quote_ident(c.relname) AS qname
    FROM pg_class c JOIN nsp ON nsp.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S', 'c')
      AND NOT (c.relname = ANY(%(excluded)s) AND c.relkind IN ('r', 'p'))
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                      AND d.objid = c.oid AND d.deptype = 'e')
),
fn AS (
    SELECT p.oid, p.prokind, nsp.nspname,
           quote_ident(nsp.nspname) || '.' || quote_ident(p.proname)
               || '(' || pg_get_function_identity_arguments(p.oid) || ')' AS qname
    FROM pg_proc p JOIN nsp ON nsp.oid = p.pronamespace
    WHERE NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                      AND d.objid = p.oid AND d.deptype = 'e')
),
typ AS (
    SELECT t.oid, t.typtype, t.typbasetype, t.typtypmod, t.typnotnull, t.typdefault, t.typcollation,
           format_type(t.oid, NULL) AS qname
    FROM pg_type t JOIN nsp ON nsp.oid = t.typnamespace
    WHERE t.typtype IN ('e', 'd', 'r', 'b')
      AND NOT (t.typtype = 'b' AND t.typelem <> 0 AND t.typlen = -1)  -- array types come with their element
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass
                      AND d.objid = t.oid AND d.deptype = 'e')
)
SELECT 'schema', quote_ident(nspname), '' FROM nsp
UNION ALL
SELECT 'extension', quote_ident(e.extname), e.extversion || ' schema ' || quote_ident(n.nspname)
FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
UNION ALL
SELECT CASE r.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'table' WHEN 'f' THEN 'foreign table'
                      WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'c' THEN 'type' END,
       r.qname,
       concat_ws(' ',
           CASE r.relkind WHEN 'p' THEN 'partitioned by ' || pg_get_partkeydef(r.oid) WHEN 'c' THEN 'composite' END,
           CASE WHEN r.relpersistence = 'u' THEN 'unlogged' END,
           CASE WHEN r.relispartition THEN 'partition of ' || (
               SELECT string_agg(quote_ident(pn.nspname) || '.' || quote_ident(pc.relname), ', ')
               FROM pg_inherits i JOIN pg_class pc ON pc.oid = i.inhparent
               JOIN pg_namespace pn ON pn.oid = pc.relnamespace WHERE i.inhrelid = r.oid)
               || ' ' || pg_get_expr(r.relpartbound, r.oid) END,
           CASE WHEN NOT r.relispartition AND r.relkind IN ('r', 'p', 'f') THEN (
               SELECT 'inherits ' || string_agg(quote_ident(pn.nspname) || '.' || quote_ident(pc.relname), ', '
                                                ORDER BY i.inhseqno)
               FROM pg_inherits i JOIN pg_class pc ON pc.oid = i.inhparent
               JOIN pg_namespace pn ON pn.oid = pc.relnamespace WHERE i.inhrelid = r.oid) END,
           CASE WHEN r.reloptions IS NOT NULL THEN 'with (' || array_to_string(r.reloptions, ', ') || ')' END,
           CASE WHEN r.relrowsecurity THEN 'row level security' END,
           CASE WHEN r.relforcerowsecurity THEN 'force row level security' END,
           CASE WHEN r.relkind IN ('v', 'm') THEN 'as ' || pg_get_viewdef(r.oid, true) END)
FROM rel r WHERE r.relkind <> 'S'
UNION ALL
SELECT 'column', r.qname || '.' || quote_ident(a.attname),
       concat_ws(' ',
           '#' || row_number() OVER (PARTITION BY a.attrelid ORDER BY a.attnum),
           format_type(a.atttypid, a.atttypmod),
           CASE WHEN a.attcollation <> t.typcollation THEN
               (SELECT 'collate ' || quote_ident(cn.nspname) || '.' || quote_ident(co.collname)
                FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace
                WHERE co.oid = a.attcollation) END,
           CASE WHEN a.attnotnull THEN 'not null' END,
           CASE WHEN a.attidentity = 'a' THEN 'generated always as identity'
                WHEN a.attidentity = 'd' THEN 'generated by default as identity' END,
           CASE WHEN a.attgenerated = 's'
                THEN 'generated always as (' || pg_get_expr(ad.adbin, ad.adrelid) || ') stored'
                WHEN ad.adbin IS NOT NULL THEN 'default ' || pg_get_expr(ad.adbin, ad.adrelid) END)
FROM rel r
JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
WHERE r.relkind <> 'S'
UNION ALL
SELECT 'constraint', r.qname || '.' || quote_ident(c.conname),
       pg_get_constraintdef(c.oid, true)
FROM pg_constraint c JOIN rel r ON r.oid = c.conrelid
UNION ALL
SELECT 'index', quote_ident(r.nspname) || '.' || quote_ident(ic.relname),
       pg_get_indexdef(i.indexrelid, 0, true)
           || CASE WHEN i.indisvalid THEN '' ELSE ' INVALID' END
           || CASE WHEN i.indisclustered THEN ' CLUSTERED' ELSE '' END
           || CASE WHEN i.indisreplident THEN ' REPLICA IDENTITY' ELSE '' END
FROM pg_index i JOIN rel r ON r.oid = i.indrelid JOIN pg_class ic ON ic.oid = i.indexrelid
UNION ALL
SELECT 'sequence', r.qname,
       concat_ws(' ', 'as ' || format_type(s.seqtypid, NULL), 'start ' || s.seqstart,
           'increment ' || s.seqincrement, 'min ' || s.seqmin, 'max ' || s.seqmax, 'cache ' || s.seqcache,
           CASE WHEN s.seqcycle THEN 'cycle' END,
           (SELECT CASE d.deptype WHEN 'i' THEN 'identity of ' ELSE 'owned by ' END
                   || quote_ident(on_.nspname) || '.' || quote_ident(oc.relname) || '.' || quote_ident(oa.attname)
            FROM pg_depend d JOIN pg_class oc ON oc.oid = d.refobjid
            JOIN pg_namespace on_ ON on_.oid = oc.relnamespace
            JOIN pg_attribute oa ON oa.attrelid = d.refobjid AND oa.attnum = d.refobjsubid
            WHERE d.classid = 'pg_class'::regclass AND d.objid = r.oid AND d.refclassid = 'pg_class'::regclass
              AND d.deptype IN ('a', 'i') LIMIT 1))
FROM rel r JOIN pg_sequence s ON s.seqrelid = r.oid
WHERE r.relkind = 'S'
UNION ALL
SELECT CASE f.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate' WHEN 'w' THEN 'window function'
                      ELSE 'function' END,
       f.qname,
       CASE WHEN f.prokind = 'a' THEN
           (SELECT concat_ws(' ', 'returns ' || pg_get_function_result(f.oid), 'sfunc ' || ag.aggtransfn::regproc::text,
                             'stype ' || format_type(ag.aggtranstype, NULL),
                             CASE WHEN ag.aggfinalfn <> 0 THEN 'finalfunc ' || ag.aggfinalfn::regproc::text END,
                             CASE WHEN ag.aggcombinefn <> 0 THEN 'combinefunc ' || ag.aggcombinefn::regproc::text END,
                             'initcond ' || ag.agginitval, 'kind ' || ag.aggkind::text)
            FROM pg_aggregate ag WHERE ag.aggfnoid = f.oid)
       ELSE pg_get_functiondef(f.oid) END
FROM fn f
UNION ALL
SELECT 'trigger', r.qname || '.' || quote_ident(tg.tgname),
       pg_get_triggerdef(tg.oid, true) || CASE tg.tgenabled WHEN 'O' THEN '' WHEN 'D' THEN ' DISABLED'
                                                         WHEN 'R' THEN ' ENABLE REPLICA' ELSE ' ENABLE ALWAYS' END
FROM pg_trigger tg JOIN rel r ON r.oid = tg.tgrelid
WHERE NOT tg.tgisinternal
UNION ALL
SELECT 'rule', r.qname || '.' || quote_ident(rw.rulename), pg_get_ruledef(rw.oid, true)
FROM pg_rewrite rw JOIN rel r ON r.oid = rw.ev_class
WHERE rw.rulename <> '_RETURN'
UNION ALL
SELECT 'policy', r.qname || '.' || quote_ident(po.polname),
       concat_ws(' ', CASE WHEN po.polpermissive THEN 'permissive' ELSE 'restrictive' END,
           'for ' || CASE po.polcmd WHEN 'r' THEN 'select' WHEN 'a' THEN 'insert' WHEN 'w' THEN 'update'
                                    WHEN 'd' THEN 'delete' ELSE 'all' END,
           'to ' || (SELECT string_agg(CASE WHEN ro = 0 THEN 'public' ELSE quote_ident(ro::regrole::text) END, ', '
                                       ORDER BY CASE WHEN ro = 0 THEN 'public' ELSE ro::regrole::text END)
                     FROM unnest(po.polroles) AS ro),
           'using (' || pg_get_expr(po.polqual, po.polrelid) || ')',
           'with check (' || pg_get_expr(po.polwithcheck, po.polrelid) || ')')
FROM pg_policy po JOIN rel r ON r.oid = po.polrelid
UNION ALL
SELECT CASE t.typtype WHEN 'e' THEN 'enum' WHEN 'd' THEN 'domain' WHEN 'r' THEN 'range' ELSE 'base type' END,
       t.qname,
       CASE t.typtype
           WHEN 'e' THEN (SELECT string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder)
                          FROM pg_enum e WHERE e.enumtypid = t.oid)
           WHEN 'd' THEN concat_ws(' ', format_type(t.typbasetype, t.typtypmod),
                                   CASE WHEN t.typnotnull THEN 'not null' END, 'default ' || t.typdefault,
                                   (SELECT string_agg(quote_ident(dc.conname) || ' '
                                                      || pg_get_constraintdef(dc.oid, true), ', ' ORDER BY dc.conname)
                                    FROM pg_constraint dc WHERE dc.contypid = t.oid))
           WHEN 'r' THEN (SELECT concat_ws(' ', 'subtype ' || format_type(rg.rngsubtype, NULL),
                                           'opclass ' || quote_ident(oc.opcname),
                                           CASE WHEN rg.rngcanonical <> 0
                                                THEN 'canonical ' || rg.rngcanonical::regproc::text END,
                                           CASE WHEN rg.rngsubdiff <> 0
                                                THEN 'subdiff ' || rg.rngsubdiff::regproc::text END)
                          FROM pg_range rg JOIN pg_opclass oc ON oc.oid = rg.rngsubopc WHERE rg.rngtypid = t.oid)
           ELSE (SELECT concat_ws(' ', 'input ' || bt.typinput::regproc::text,
                                  'output ' || bt.typoutput::regproc::text, 'length ' || bt.typlen,
                                  'align ' || bt.typalign::text, 'storage ' || bt.typstorage::text)
                 FROM pg_type bt WHERE bt.oid = t.oid)
       END
FROM typ t
UNION ALL
SELECT 'statistics', quote_ident(nsp.nspname) || '.' || quote_ident(st.stxname), pg_get_statisticsobjdef(st.oid)
FROM pg_statistic_ext st JOIN nsp ON nsp.oid = st.stxnamespace
UNION ALL
SELECT 'event trigger', quote_ident(et.evtname),
       concat_ws(' ', 'on ' || et.evtevent, 'execute ' || et.evtfoid::regproc::text,
                 'when tag in (' || array_to_string(et.evttags, ', ') || ')', 'enabled ' || et.evtenabled::text)
FROM pg_event_trigger et
"""


def _libpq_url(db_url) -> str:
    """Any PostgreSQL URL (SQLAlchemy `postgresql+driver://`, sqlalchemy URL object, libpq) -> libpq form."""
    if not isinstance(db_url, str):
        db_url = db_url.render_as_string(hide_password=False)
    return re.sub(r"^postgres(?:ql)?(?:\+[A-Za-z0-9_]+)?://", "postgresql://", db_url, count=1)


def schema_rows(db, exclude_tables=EXCLUDED_TABLES, *, exclude_schema: str | None = None) -> list[tuple[str, str, str]]:
    """The catalog rows (kind, name, definition), sorted. `db`: a URL (SchemaReadError, password-free, if it
    cannot be read) or an open psycopg connection (its uncommitted changes included, its settings untouched).
    `exclude_schema`: a schema left out with everything in it (migrator's ledger on a live database)."""
    import psycopg

    params = {"excluded": list(exclude_tables)}

    def read(conn) -> list:
        rows = conn.execute(_QUERY, params).fetchall()
        if exclude_schema is None:
            return rows
        prefix = conn.execute("SELECT quote_ident(%s)", (exclude_schema,)).fetchone()[0]
        return [row for row in rows if row[1] != prefix and not row[1].startswith(prefix + ".")]

    if isinstance(db, psycopg.Connection):
        # a savepoint (or transaction) rolled back afterwards: the SET LOCALs vanish with it
        with db.transaction(force_rollback=True):
            db.execute(_SET_LOCAL)
            rows = read(db)
    else:
        try:
            with psycopg.connect(_libpq_url(db), autocommit=True, options=_OPTIONS, connect_timeout=10) as conn:
                rows = read(conn)
        except psycopg.Error as exc:
            raise SchemaReadError(f"cannot read the schema: {_scrub(str(exc), db)}") from None
    return sorted((kind, name, definition or "") for kind, name, definition in rows)


def _scrub(text: str, db_url) -> str:
    match = re.search(r"://[^/@\s:]*:([^/@\s]+)@", _libpq_url(db_url))
    if match:
        from urllib.parse import unquote

        for form in {match.group(1), unquote(match.group(1))}:
            text = text.replace(form, "***")
    return " ".join(text.split())


def schema_dump(db_url, exclude_tables=EXCLUDED_TABLES, *, exclude_schema: str | None = None) -> str:
    """The normalised schema as text: one `kind name: definition` entry per object, sorted (diffable).
    `db_url` may also be an open psycopg connection."""
    out = []
    for kind, name, definition in schema_rows(db_url, exclude_tables, exclude_schema=exclude_schema):
        definition = definition.rstrip("\n").replace("\n", "\n    ")  # lossless: continuation lines indented
        out.append(f"{kind} {name}: {definition}" if definition else f"{kind} {name}")
    return "\n".join(out) + "\n"


def schema_fingerprint(db_url, exclude_tables=EXCLUDED_TABLES, *, exclude_schema: str | None = None) -> str:
    """sha256 (hex) of schema_dump(): equal for equal schemas, whatever the data or the database name.
    `db_url`: a URL or an open psycopg connection. The live database of a release leaves out the ledger's
    schema (`exclude_schema`), which compat's throwaway databases do not have."""
    return hashlib.sha256(schema_dump(db_url, exclude_tables, exclude_schema=exclude_schema).encode()).hexdigest()
