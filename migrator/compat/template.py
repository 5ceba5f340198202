"""Blue's schema, built once per blue commit into a template database and cloned for every check.

Only for a server migrator does not own (the url provider): a server migrator starts is thrown away
after the check, so there the schema is built straight into the check's database. The template is
built under a temporary name and renamed when complete, so a crash never leaves a half-built template
that a later check would trust.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable

log = logging.getLogger(__name__)

TEMPLATE_PREFIX = "migrator_tpl"
CHECK_PREFIX = "migrator_check"
BUILD_PREFIX = "migrator_build"


def template_name(*parts: str) -> str:
    digest = hashlib.sha256("\0".join(parts).encode()).hexdigest()[:20]
    return f"{TEMPLATE_PREFIX}_{digest}"


def blue_database(server, key_parts: tuple[str, ...], build: Callable[[str], None], *, cache: bool):
    """A new database at blue's schema. `build(url)` brings an empty database to blue's schema."""
    if not (cache and server.provider == "url"):
        db = server.create_database(prefix=CHECK_PREFIX)
        build(db.url)
        return db, False
    # the role is part of the key: a clone keeps the template's object owners, so a template built by
    # another role would leave this one without the rights on blue's tables (alembic_version included)
    name = template_name(*key_parts, current_user(server))
    if not template_exists(server, name):
        log.info("building blue's schema into template %s (once per blue commit)", name)
        staging = server.create_database(prefix=BUILD_PREFIX)
        build(staging.url)  # a failure leaves the staging database to the server's cleanup
        _publish(server, staging, name)
    else:
        log.info("cloning blue's schema from template %s", name)
    return server.create_database(prefix=CHECK_PREFIX, template=name), True


def blue_source(server, key_parts: tuple[str, ...], build: Callable[[str], None], *, cache: bool) -> tuple[str, bool]:
    """The name of a database at blue's schema to clone checks from, and whether it was built just now.

    url provider with `cache`: the template of blue's commit (built once, under a staging name); else a
    database of this run that `build(url)` brings to blue's schema (dropped with the server's cleanup)."""
    if not (cache and server.provider == "url"):
        db = server.create_database(prefix=CHECK_PREFIX)
        build(db.url)
        return db.name, True
    name = template_name(*key_parts, current_user(server))
    if template_exists(server, name):
        log.info("cloning blue's schema from template %s", name)
        return name, False
    log.info("building blue's schema into template %s (once per blue commit)", name)
    staging = server.create_database(prefix=BUILD_PREFIX)
    build(staging.url)  # a failure leaves the staging database to the server's cleanup
    _publish(server, staging, name)
    return name, True


def cached_template(server, key_parts: tuple[str, ...], *, cache: bool) -> str | None:
    """The name of blue's template when it is already on the server (url provider with `cache`), else None."""
    if not (cache and server.provider == "url"):
        return None
    name = template_name(*key_parts, current_user(server))
    if not template_exists(server, name):
        return None
    log.info("cloning blue's schema from template %s", name)
    return name


def current_user(server) -> str:
    return server.query("cannot read the current role", "SELECT current_user")[0][0]


def template_exists(server, name: str) -> bool:
    """Whether the database `name` is on the server now (another run, or --prune-templates, may drop a template)."""
    return bool(server.query("cannot list databases", "SELECT 1 FROM pg_database WHERE datname = %s", (name,)))


def _publish(server, staging, name: str) -> None:
    """Rename the complete staging database to the template name and freeze it; lose a race gracefully."""
    import psycopg
    from psycopg import sql

    server.end_sessions(staging.name)
    try:
        server.connect().execute(
            sql.SQL("ALTER DATABASE {} RENAME TO {}").format(sql.Identifier(staging.name), sql.Identifier(name)))
    except psycopg.errors.DuplicateDatabase:
        staging.drop()  # another check built the same template meanwhile
        return
    except psycopg.Error as exc:
        raise server.error(f"cannot rename {staging.name} to {name}", exc) from None
    staging.dropped = True  # it lives on under the template name, outside the server's cleanup
    server.query(f"cannot freeze template {name}",
                 sql.SQL("ALTER DATABASE {} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false").format(sql.Identifier(name)))


def drop_templates(server, names: list[str] | None = None) -> list[str]:
    """Remove cached blue templates on the server (`migrator compat --prune-templates`): every one, or `names`.
    A template another run dropped meanwhile is simply gone; the names this call dropped are returned."""
    import psycopg
    from psycopg import sql

    if names is None:
        names = [r[0] for r in server.connect().execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s ORDER BY datname",
            (TEMPLATE_PREFIX.replace("_", r"\_") + r"\_%",))]
    dropped = []
    for name in names:
        ident = sql.Identifier(name)
        try:
            server.connect().execute(sql.SQL("ALTER DATABASE {} WITH IS_TEMPLATE false").format(ident))
            server.connect().execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(ident))
        except psycopg.errors.InvalidCatalogName:
            continue  # dropped by another run between our list and our drop
        except psycopg.Error as exc:
            raise server.error(f"cannot drop template {name}", exc) from None
        dropped.append(name)
    return dropped
