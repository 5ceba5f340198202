"""Render a Report: text, json, sarif, github."""

from __future__ import annotations

from migrator.model import Report


def render(report: Report, fmt: str, *, verbose: bool = False) -> str:
    if fmt == "json":
        from migrator.report.json_format import render_json

        return render_json(report)
    if fmt == "sarif":
        from migrator.report.sarif import render_sarif

        return render_sarif(report)
    if fmt == "github":
        from migrator.report.github import render_github

        return render_github(report)
    from migrator.report.text import render_text

    return render_text(report, verbose=verbose)
