"""`migrator lint`: the pre-merge gate: classify, and fail on mixed migrations or declared phases that disagree."""

from __future__ import annotations

from dataclasses import replace

from migrator.commands.classify import ClassifyRequest, ClassifyResult, classify


def lint(request: ClassifyRequest) -> ClassifyResult:
    return classify(replace(request, lint=True))
