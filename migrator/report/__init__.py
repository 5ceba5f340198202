"""Render classification results: text, json, sarif, github.

Every format is a Writer that gets the migrations one at a time and writes as it goes, so a run of any
size is rendered with bounded memory (`write_report`); `render` is the same into a string.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from typing import TextIO

from migrator.model import MigrationReport, Report, StatementReport, Summary

FORMATS = ("text", "json", "sarif", "github")


class Writer:
    """Writes one format to `out`: begin(), migration() for each migration in order, end(summary)."""

    def __init__(self, out: TextIO, *, verbose: bool = False, rules_url: str | None = None) -> None:
        self.out = out
        self.verbose = verbose
        # base URL of the rule pages: None = the default (migrator.rules._explain.rules_base), "" = no links
        if rules_url is None:
            from migrator.rules import rules_base

            rules_url = rules_base() or ""
        self.rules_url = rules_url

    def rule_url(self, rule_id: str) -> str | None:
        from migrator.rules import rule_url

        return rule_url(rule_id, self.rules_url)

    def begin(self) -> None:
        pass

    def migration(self, m: MigrationReport, summary: Summary) -> None:
        """The migration's statements are read once, in order (a spool reads them back from disk)."""
        self.begin_migration(m)
        for s in m.statements:
            summary.add_statement(s)
            self.statement(m, s)
        summary.add_migration(m)
        self.end_migration(m)

    def begin_migration(self, m: MigrationReport) -> None:
        pass

    def statement(self, m: MigrationReport, s: StatementReport) -> None:
        pass

    def end_migration(self, m: MigrationReport) -> None:
        pass

    def end(self, summary: Summary) -> None:
        pass


def writer_for(fmt: str, out: TextIO, *, verbose: bool = False, rules_url: str | None = None) -> Writer:
    cls: type[Writer]
    if fmt == "json":
        from migrator.report.json_format import JsonWriter as cls
    elif fmt == "sarif":
        from migrator.report.sarif import SarifWriter as cls
    elif fmt == "github":
        from migrator.report.github import GithubWriter as cls
    else:
        from migrator.report.text import TextWriter as cls
    return cls(out, verbose=verbose, rules_url=rules_url)


def write_report(migrations: Iterable[MigrationReport], fmt: str, out: TextIO, *, verbose: bool = False,
                 after_each: Callable[[MigrationReport], None] | None = None,
                 rules_url: str | None = None) -> Summary:
    """Render the migrations as they come; `after_each(m)` runs once a migration is written (e.g. flush).
    `rules_url`: base URL of the rule pages (None: the default, "": no links)."""
    writer = writer_for(fmt, out, verbose=verbose, rules_url=rules_url)
    summary = Summary()
    writer.begin()
    for m in migrations:
        writer.migration(m, summary)
        if after_each is not None:
            after_each(m)
    writer.end(summary)
    return summary


def render(report: Report, fmt: str, *, verbose: bool = False, rules_url: str | None = None) -> str:
    out = io.StringIO()
    write_report(report.migrations, fmt, out, verbose=verbose, rules_url=rules_url)
    return out.getvalue()
