"""[tool.migrator.fleet]: which databases make the fleet, the canary, the waves and the concurrency.

    [tool.migrator.fleet]
    urls = ["postgresql://deploy@db1/shop_a", "postgresql://deploy@db1/shop_b"]  # or:
    command = "./list-tenants.sh"             # prints one URL per line
    # or: a tenant registry
    query = "SELECT url FROM tenants WHERE active ORDER BY id"
    registry_url_env = "TENANTS_DB_URL"       # the registry's address, from the environment (or registry_url)
    canary = 1                                # a count, or one database (URL, host:port/dbname or dbname)
    waves = [10, 50, 100]                     # cumulative percentages of the rest, after the canary
    concurrency = 8

Exactly one source. URLs may leave the password to libpq (PGPASSWORD, ~/.pgpass) so that no file holds it.
A broken table is a ConfigError (exit 2) with a one-line message.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from migrator.config import load_config
from migrator.db.urls import DatabaseURL
from migrator.db.urls import scrub as scrub_url
from migrator.errors import ConfigError

REGISTRY_ENV = "MIGRATOR_FLEET_REGISTRY_URL"
SOURCE_TIMEOUT = 120.0
_KNOWN = ("urls", "command", "query", "registry_url", "registry_url_env", "canary", "waves", "concurrency")


@dataclass(frozen=True)
class Member:
    """One database of the fleet: its address, its identity (host:port/dbname: what shards hash) and its address
    as shown (password hidden)."""

    url: str
    identity: str
    shown: str
    position: int  # in the fleet's order (the source's)

    def __repr__(self) -> str:
        return f"Member({self.shown!r})"


@dataclass
class FleetConfig:
    urls: list[str] | None = None
    command: str | list[str] | None = None
    query: str | None = None
    registry_url: str | None = None
    registry_url_env: str | None = None
    canary: int | str = 1
    waves: list[float] = field(default_factory=lambda: [10.0, 50.0, 100.0])
    concurrency: int = 8
    source: Path | None = None  # the file it was read from
    base: Path = field(default_factory=Path.cwd)  # relative commands run here


def load_fleet_config(pyproject: Path | None, overrides: dict | None = None) -> FleetConfig:
    """Read [tool.migrator.fleet] of `pyproject` (a missing file or table: no source, which the commands refuse),
    then apply `overrides` (command-line values, None = not given)."""
    section: dict = {}
    where = "[tool.migrator.fleet]"
    base = Path.cwd()
    if pyproject is not None and Path(pyproject).is_file():
        path = Path(pyproject)
        base = path.resolve().parent
        where = f"{path}: [tool.migrator.fleet]"
        section = load_config(path).fleet
    unknown = sorted(set(section) - set(_KNOWN))
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)} (known: {', '.join(_KNOWN)})")
    values = {**section, **{k: v for k, v in (overrides or {}).items() if v is not None}}
    cfg = FleetConfig(source=Path(pyproject) if pyproject else None, base=base)
    urls = values.get("urls")
    if urls is not None:
        if not isinstance(urls, list) or not all(isinstance(u, str) and u.strip() for u in urls):
            raise ConfigError(f"{where}: urls must be a list of database URLs")
        cfg.urls = [u.strip() for u in urls]
    command = values.get("command")
    if command is not None:
        if not (isinstance(command, str) and command.strip()) and not (
                isinstance(command, list) and command and all(isinstance(c, str) for c in command)):
            raise ConfigError(f"{where}: command must be a string (run by /bin/sh) or a list of arguments")
        cfg.command = command
    for key in ("query", "registry_url", "registry_url_env"):
        value = values.get(key)
        if value is not None and not (isinstance(value, str) and value.strip()):
            raise ConfigError(f"{where}: {key} must be a non-empty string")
        setattr(cfg, key, value)
    sources = [k for k in ("urls", "command", "query") if getattr(cfg, k) is not None]
    if len(sources) > 1:
        raise ConfigError(f"{where}: give one source of databases (urls, command or query), not {' and '.join(sources)}")
    if (cfg.registry_url or cfg.registry_url_env) and cfg.query is None:
        raise ConfigError(f"{where}: registry_url needs query (the SQL that returns the databases' URLs)")
    canary = values.get("canary", 1)
    if isinstance(canary, bool) or not isinstance(canary, (int, str)) or (isinstance(canary, int) and canary < 1) \
            or (isinstance(canary, str) and not canary.strip()):
        raise ConfigError(f"{where}: canary must be a count (>= 1) or one database (URL, host:port/dbname, dbname)")
    cfg.canary = canary
    waves = values.get("waves", cfg.waves)
    cfg.waves = _waves(waves, where)
    concurrency = values.get("concurrency", cfg.concurrency)
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ConfigError(f"{where}: concurrency must be a whole number >= 1 (got {concurrency!r})")
    cfg.concurrency = concurrency
    return cfg


def _waves(value, where: str) -> list[float]:
    if isinstance(value, str):  # --waves 10,50,100
        try:
            value = [float(v) for v in value.replace(" ", "").split(",") if v]
        except ValueError:
            raise ConfigError(f"{where}: waves must be percentages, e.g. 10,50,100") from None
    if not isinstance(value, list) or not value or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        raise ConfigError(f"{where}: waves must be a list of cumulative percentages, e.g. [10, 50, 100]")
    out = [float(v) for v in value]
    if any(v <= 0 or v > 100 for v in out) or any(b <= a for a, b in zip(out, out[1:])):
        raise ConfigError(f"{where}: waves {value} must rise strictly, each in (0, 100]")
    if out[-1] != 100:
        raise ConfigError(f"{where}: the last wave must be 100 (the whole fleet), got {value}")
    return out


# --- the databases --------------------------------------------------------------------------------------------


def identity(url: str) -> str:
    """host:port/dbname of an address (no user, no password): what a database is, whoever connects."""
    params = DatabaseURL.parse(url).params
    host = params.get("host") or params.get("hostaddr") or "localhost"
    return f"{host}:{params.get('port') or '5432'}/{params.get('dbname') or params.get('user') or ''}"


def members(urls: list[str], where: str = "the fleet") -> list[Member]:
    """The fleet's databases in the source's order; a database listed twice (same identity) is a ConfigError."""
    out: list[Member] = []
    seen: dict[str, str] = {}
    for position, url in enumerate(urls):
        parsed = DatabaseURL.parse(url)  # a bad address: DatabaseURLError (exit 2), password-free
        ident = identity(url)
        if ident in seen:
            raise ConfigError(f"{where} lists the database {ident} twice ({seen[ident]} and {parsed.safe()})")
        seen[ident] = parsed.safe()
        out.append(Member(url, ident, parsed.safe(), position))
    return out


def list_databases(cfg: FleetConfig) -> list[Member]:
    """The fleet, from its one source (exit 2 when there is none, it fails, or it lists nothing)."""
    if cfg.urls is not None:
        urls, where = cfg.urls, "urls"
    elif cfg.command is not None:
        urls, where = _from_command(cfg), "the fleet command"
    elif cfg.query is not None:
        urls, where = _from_query(cfg), "the fleet query"
    else:
        raise ConfigError("no fleet: give [tool.migrator.fleet] urls, command, or query + registry_url "
                          f"({cfg.source or 'no pyproject.toml found'})")
    if not urls:
        raise ConfigError(f"{where} gave no database")
    return members(urls, where)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]


def _from_command(cfg: FleetConfig) -> list[str]:
    command = cfg.command
    assert command is not None  # list_databases() reads the command only when there is one
    words = command.split() if isinstance(command, str) else command
    shown = Path(words[0]).name if words else "?"  # its program only: its arguments may hold a secret
    try:
        done = subprocess.run(command, shell=isinstance(command, str), cwd=cfg.base, capture_output=True,
                              text=True, timeout=SOURCE_TIMEOUT, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ConfigError(f"the fleet command {shown!r} could not run: {type(exc).__name__}: "
                          f"{' '.join(str(exc).split())[:200]}") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or [""])[-1][:200]
        urls = _lines(done.stdout)
        for url in urls:  # what it printed before it failed may hold passwords
            last = _safe_scrub(last, url)
        raise ConfigError(f"the fleet command {shown!r} exited {done.returncode}" + (f": {last}" if last else ""))
    return _lines(done.stdout)


def _safe_scrub(text: str, url: str) -> str:
    try:
        return scrub_url(text, url)
    except Exception:  # noqa: BLE001 - an address that does not parse: nothing to hide from it
        return text


def _from_query(cfg: FleetConfig) -> list[str]:
    import psycopg

    query = cfg.query
    assert query is not None  # list_databases() runs the query only when there is one
    env = cfg.registry_url_env or REGISTRY_ENV
    registry = cfg.registry_url or os.environ.get(env)
    if not registry:
        raise ConfigError(f"the fleet query needs the registry database: registry_url, or the variable {env}")
    parsed = DatabaseURL.parse(registry)
    try:
        with psycopg.connect(parsed.libpq(), autocommit=False, connect_timeout=10,
                             application_name="migrator fleet") as conn:
            conn.execute("SET TRANSACTION READ ONLY")
            rows = conn.execute(query).fetchall()
            conn.rollback()
    except psycopg.Error as exc:
        raise ConfigError(f"the fleet query on {parsed.safe()} failed: "
                          f"{' '.join(parsed.scrub(str(exc)).split())[:300]}") from None
    urls = []
    for row in rows:
        if not row or not isinstance(row[0], str) or not row[0].strip():
            raise ConfigError(f"the fleet query on {parsed.safe()} must return one URL (text) per row in its first "
                              "column")
        urls.append(row[0].strip())
    return urls
