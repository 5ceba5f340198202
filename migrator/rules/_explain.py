"""What `migrator rule ID` says about a rule, and where each rule's page is.

A rule's documentation is its docstring (the same text as docs/rules/<ID>.md); its examples are the cases of
its fixture file, tests/rules/fixtures/<ID>.sql, when migrator runs from a checkout that has it.

Links: the base URL of the rule pages comes from `--rules-url`, else `MIGRATOR_RULES_URL`, else `rules_url` in
[tool.migrator], else the project's repository (the installed package's [project.urls], else PROJECT_URL) +
/blob/main/docs/rules/. An empty value turns links off. A base holding `{id}` is a template
(`https://wiki.example/migrator/{id}`); any other base gets `<ID>.md` appended.
"""

from __future__ import annotations

import inspect
import os
import re
from functools import lru_cache
from pathlib import Path

ENV_VAR = "MIGRATOR_RULES_URL"
DISTRIBUTION = "migrator-bluegreen"
PROJECT_URL = "https://github.com/migrator-bluegreen/migrator"
_ROOT = Path(__file__).resolve().parents[2]  # the checkout, when migrator runs from one
_SECTIONS = {"what it does": "what", "why is this bad?": "why", "use instead": "instead"}
_HEADER = re.compile(r"^--\s*(title|expect|phase|settings):\s*(.*?)\s*$")


def rules_base(option: str | None = None, config=None) -> str | None:
    """The base URL of the rule pages (None: no links)."""
    for value in (option, os.environ.get(ENV_VAR), getattr(config, "rules_url", None)):
        if value is not None:
            return value.strip() or None
    return default_rules_base()


@lru_cache(maxsize=1)
def default_rules_base() -> str:
    return (_repository_url() or PROJECT_URL).rstrip("/") + "/blob/main/docs/rules/"


def _repository_url() -> str | None:
    """The repository in the installed package's metadata ([project.urls]): a GitHub or GitLab project URL."""
    try:
        from importlib.metadata import PackageNotFoundError, metadata

        meta = metadata(DISTRIBUTION)
    except (ImportError, PackageNotFoundError):
        return None
    for entry in meta.get_all("Project-URL") or ():
        label, _, url = entry.partition(",")
        url = url.strip()
        if (label.strip().lower() in ("repository", "source", "source code", "homepage")
                and re.fullmatch(r"https://(github|gitlab)\.com/[^/\s]+/[^/\s]+/?", url)):
            return url
    return None


def rule_url(rule_id: str, base: str | None) -> str | None:
    """The rule's page: a plug-in rule's own `url` (none if it has none), else the page under `base`."""
    from migrator.rules.registry import find_rule

    rule = find_rule(rule_id)
    if rule is not None and not type(rule).__module__.startswith("migrator.rules."):
        return rule.url  # migrator's docs have no page for another package's rule
    if not base:
        return None
    if "{id}" in base:
        return base.replace("{id}", rule_id)
    return (base if base.endswith("/") else base + "/") + f"{rule_id}.md"


def short_link(url: str | None) -> str | None:
    """A file: link into the working directory as a relative path (docs/rules/C317.md); others as they are."""
    if not url or not url.startswith("file://"):
        return url
    from urllib.parse import unquote, urlparse

    path = Path(unquote(urlparse(url).path))
    try:
        return path.relative_to(Path.cwd()).as_posix()
    except ValueError:
        return url


def sections(rule) -> dict[str, str]:
    """The docstring's title and its ## sections (what, why, instead), dedented."""
    doc = inspect.cleandoc(type(rule).__doc__ or "")
    title, _, body = doc.partition("\n")
    found = {"title": title.strip() or rule.name}
    key: str | None = None
    lines: list[str] = []
    for line in body.splitlines():
        if line.startswith("## "):
            if key:
                found[key] = "\n".join(lines).strip()
            key, lines = _SECTIONS.get(line[3:].strip().lower(), line[3:].strip().lower()), []
        elif key:
            lines.append(line)
    if key:
        found[key] = "\n".join(lines).strip()
    return found


def fixture_path(rule_id: str) -> Path:
    return _ROOT / "tests" / "rules" / "fixtures" / f"{rule_id}.sql"


def examples(rule_id: str) -> list[dict]:
    """The fixture's cases: title, flagged (the rule matches) and sql; [] without a fixture file."""
    path = fixture_path(rule_id)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return []
    cases: list[dict] = []
    body: list[str] | None = None
    for line in text.splitlines():
        m = _HEADER.match(line)
        if m and m.group(1) == "title":
            cases.append({"title": m.group(2), "flagged": True, "sql": ""})
            body = []
        elif cases and m and not body:
            if m.group(1) == "expect":
                cases[-1]["flagged"] = m.group(2).strip().lower() != "none"
        elif cases and body is not None:
            body.append(line)
            cases[-1]["sql"] = "\n".join(body).strip()
    return [c for c in cases if c["sql"]]


def explain(rule, base: str | None) -> dict:
    """Everything `migrator rule` shows, as the JSON form."""
    doc = sections(rule)
    return {
        "rule": rule.id,
        "name": rule.name,
        "title": doc["title"],
        "phase": rule.phase.label,
        "severity": rule.severity.label if rule.severity else None,
        "lock": rule.lock.label if rule.lock else None,
        "rewrite": rule.rewrite.label,
        "what": doc.get("what", ""),
        "why": doc.get("why", ""),
        "instead": doc.get("instead", ""),
        "fix": rule.fix,
        "examples": examples(rule.id),
        "url": rule_url(rule.id, base),
    }


def explain_text(info: dict, *, examples_each: int = 3) -> str:
    out = [f"{info['rule']} {info['name']}: {info['title']}", ""]
    out.append(f"  phase     {info['phase']}")
    out.append(f"  severity  {info['severity'] or 'none (classification only)'}")
    out.append(f"  lock      {info['lock'] or 'none'}")
    out.append(f"  rewrite   {info['rewrite']}")
    for key, head in (("what", "What it does"), ("why", "Why"), ("instead", "Safe alternative")):
        if info.get(key):
            out += ["", head] + [f"  {line}" if line else "" for line in info[key].splitlines()]
    if info.get("fix"):
        out += ["", "Fix", f"  {info['fix']}"]
    for flagged, head in ((True, "Flagged"), (False, "Not flagged")):
        cases = [c for c in info.get("examples") or [] if c["flagged"] is flagged][:examples_each]
        if cases:
            out += ["", f"Examples: {head.lower()}"]
            for case in cases:
                out.append(f"  -- {case['title']}")
                out += [f"  {line}" for line in case["sql"].splitlines()]
    link = short_link(info.get("url"))
    if link:
        out += ["", f"docs: {link}"]
    return "\n".join(out) + "\n"
