"""What a fixture app is: its history (one commit per version, built from source overlays) and its releases."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Release:
    """One blue-green release of a fixture app and the answer migrator must give for it.

    expect: "pass" (both versions run on the expanded schema: the switch may open), "refused" (exit 1: no
    safe blue-green order), "blue-startup-migration" (blue cannot start on the expanded schema because it
    migrates the database at start-up; its suite also changes the schema under test).
    expanded: the alembic revision of green's last revision applied before the switch (the expanded
    schema); held_back: green's contract revisions, applied only after the switch.
    """

    name: str
    blue: str
    green: str
    expect: str
    note: str = ""
    expanded: str = ""
    held_back: tuple[str, ...] = ()


@dataclass(frozen=True)
class Version:
    """One commit: the tree of `base` (default: the branch's previous commit) with `overlays` copied on top,
    tagged `tag`. An overlay is a folder under tests/apps/<app>/; a `.fixture-delete` file in it lists
    paths (one a line) that the commit removes."""

    tag: str
    overlays: tuple[str, ...]
    message: str
    base: str | None = None
    branch: str = "main"


@dataclass(frozen=True)
class AppSpec:
    name: str
    project_dir: str  # where alembic.ini / pyproject.toml live, relative to the repository root
    requirements: tuple[str, ...]  # pinned requirement files, relative to the repository root
    versions: tuple[Version, ...]
    releases: tuple[Release, ...]
    summary: str = ""
    env: dict[str, str] = field(default_factory=dict)  # what the config's compat.env gives the app
