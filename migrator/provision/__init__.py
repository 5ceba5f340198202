"""Throwaway PostgreSQL databases for checks that need a real server.

    with get_provider("auto").start() as server:          # url | embedded | local | docker | auto
        with server.create_database() as db:               # migrator_<pid>_<random>, dropped on exit
            run(db.url)                                     # postgresql+psycopg://...  (db.libpq_url: postgresql://...)

Templates: `tpl = server.create_template("blue")`, fill it, then `server.create_database(template=tpl)`.
Leaving the `with` block (also on error, Ctrl-C or SIGTERM) drops every database the server created and
stops what the provider started. Passwords: print `safe_url()`, never `url`.
"""

from __future__ import annotations

from ._providers import (
    PROVIDERS,
    URL_ENV,
    AutoProvider,
    DockerProvider,
    EmbeddedProvider,
    LocalProvider,
    Provider,
    UrlProvider,
    find_bindir,
    get_provider,
)
from ._procs import kill_group
from ._server import Database, Server
from .errors import ProvisionError, SignalExit

__all__ = [
    "PROVIDERS", "URL_ENV", "AutoProvider", "Database", "DockerProvider", "EmbeddedProvider", "LocalProvider",
    "Provider", "ProvisionError", "Server", "SignalExit", "UrlProvider", "find_bindir", "get_provider",
    "kill_group",
]
