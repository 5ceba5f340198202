"""The providers: url, embedded (pgserver's binaries), local (initdb on this machine), docker, auto."""

from __future__ import annotations

import glob
import importlib.util
import os
import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from ._docker import DockerProvider
from ._provider import Provider
from ._server import Server
from .errors import ProvisionError

URL_ENV = "MIGRATOR_SCRATCH_URL"  # where throwaway databases go: never the release target (MIGRATOR_DATABASE_URL)
BINDIR_GLOBS = ("/usr/lib/postgresql/*/bin", "/usr/pgsql-*/bin", "/usr/local/pgsql/bin",
                "/usr/local/opt/postgresql*/bin", "/opt/homebrew/opt/postgresql*/bin")


class UrlProvider(Provider):
    """An existing server: databases are created and dropped there; the server itself is left alone."""

    name = "url"

    def __init__(self, url=None):
        self.url = url or os.environ.get(URL_ENV) or None

    def unavailable(self) -> str | None:
        return None if self.url else f"no URL given (argument or {URL_ENV})"

    def start(self) -> Server:
        self._check()
        from . import _urls

        started = time.monotonic()
        url = _urls.parse(self.url, self.name)
        server = Server(url if url.database else url.with_database("postgres"), self.name)
        try:
            server.connect()
        except BaseException:
            server.stop()
            raise
        server.startup_seconds = time.monotonic() - started
        return server


class EmbeddedProvider(Provider):
    """A throwaway cluster from the PostgreSQL binaries shipped in the `pgserver` wheel."""

    name = "embedded"

    @staticmethod
    def bindir() -> Path | None:
        spec = importlib.util.find_spec("pgserver")  # locate without importing it (no side effects)
        if spec is None or not spec.origin:
            return None
        path = Path(spec.origin).parent / "pginstall" / "bin"
        return path if (path / "postgres").is_file() else None

    def unavailable(self) -> str | None:
        return None if self.bindir() else "pgserver is not installed (pip install 'migrator-bluegreen[embedded]')"

    def start(self) -> Server:
        self._check()
        from ._cluster import start_cluster

        bindir = self.bindir()
        assert bindir is not None  # _check() found it
        return start_cluster(self.name, bindir)


def _version_key(path: str) -> tuple:
    return tuple(int(n) for n in re.findall(r"\d+", path)) or (0,)


def find_bindir() -> Path | None:
    """Directory holding initdb and postgres: from PATH first, then the usual install places (newest first)."""
    candidates = []
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(os.path.realpath(initdb)).parent)
    for pattern in BINDIR_GLOBS:
        candidates += [Path(p) for p in sorted(glob.glob(pattern), key=_version_key, reverse=True)]
    for path in candidates:
        if (path / "initdb").is_file() and (path / "postgres").is_file():
            return path
    return None


class LocalProvider(Provider):
    """A throwaway cluster from this machine's PostgreSQL installation (initdb + postgres)."""

    name = "local"

    def __init__(self, bindir=None):
        self._bindir = Path(bindir) if bindir else None

    def bindir(self) -> Path | None:
        return self._bindir or find_bindir()

    def unavailable(self) -> str | None:
        if self.bindir():
            return None
        return "no initdb/postgres on PATH or in " + ", ".join(BINDIR_GLOBS)

    def start(self) -> Server:
        self._check()
        from ._cluster import start_cluster

        bindir = self.bindir()
        assert bindir is not None  # _check() found it
        return start_cluster(self.name, bindir)


class AutoProvider(Provider):
    """url if a URL is given, else embedded, else local, else docker; `server.skipped` says why not the others."""

    name = "auto"
    ORDER = ("embedded", "local", "docker")

    def __init__(self, url=None):
        self.url = url or os.environ.get(URL_ENV) or None

    def start(self) -> Server:
        if self.url:
            server = UrlProvider(self.url).start()
            server.skipped = {name: "a URL was given" for name in self.ORDER}
            return server
        skipped = {"url": f"no URL given (argument or {URL_ENV})"}
        for name in self.ORDER:
            provider = PROVIDERS[name]()
            reason = provider.unavailable()
            if reason is None:
                try:
                    server = provider.start()
                except ProvisionError as exc:
                    reason = f"failed: {exc}"
                else:
                    server.skipped = skipped
                    return server
            skipped[name] = reason
        raise ProvisionError("no PostgreSQL available: " + "; ".join(f"{k}: {v}" for k, v in skipped.items()), self.name)


PROVIDERS: dict[str, type[Provider]] = {
    "url": UrlProvider, "embedded": EmbeddedProvider, "local": LocalProvider, "docker": DockerProvider, "auto": AutoProvider,
}


def get_provider(name: str = "auto", url=None) -> Provider:
    """The provider called `name`; `url` is used by "url" and "auto" (default: $MIGRATOR_SCRATCH_URL)."""
    try:
        cls: Callable[..., Provider] = PROVIDERS[name]  # "url" and "auto" take the URL
    except KeyError:
        raise ProvisionError(f"unknown provider {name!r} (choose from {', '.join(PROVIDERS)})") from None
    return cls(url) if name in ("url", "auto") else cls()
