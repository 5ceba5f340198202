"""The example third-party router of the docs (docs/examples/acme-router), installed with pip like any plug-in and
driven through the `migrator.routers` entry point: in-process (move_traffic, rollback) and by the `migrator` command
(`router check`). Its module is the block of docs/hooks.md word for word."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from migrator.routers import RouterHook, get_hook, move_traffic, rollback_traffic, router_kinds
from tests._cli import run
from tests._examples import pip_install_example

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "docs" / "examples" / "acme-router"


def docs_block(tag: str) -> str:
    after = (ROOT / "docs" / "hooks.md").read_text().split(f"<!-- example: {tag} -->", 1)[1]
    return after.split("```", 2)[1].split("\n", 1)[1]


def test_the_package_is_the_documented_router():
    assert (PACKAGE / "acme_router.py").read_text() == docs_block("python-router")
    assert 'file = "acme_router:FileRouter"' in (PACKAGE / "pyproject.toml").read_text()


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """`pip install --target SITE docs/examples/acme-router` (tests/_examples.py)."""
    site, errors = pip_install_example(PACKAGE, tmp_path_factory.mktemp("acme-router"))
    if site is None:
        if "No matching distribution found for setuptools" in errors[-1]:
            pytest.skip("cannot build the example package: no setuptools/wheel offline and no package index")
        pytest.fail("pip could not install docs/examples/acme-router:\n" + "\n---\n".join(errors))
    assert (site / "acme_router.py").is_file()
    assert list(site.glob("acme_router-1.0.dist-info/entry_points.txt"))
    return site


def test_installed_plugin_moves_traffic_through_the_entry_point(installed, tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(installed))
    assert router_kinds()["file"] == "acme_router:FileRouter"
    hook = get_hook({"kind": "file", "path": "live-color"}, project_dir=tmp_path)
    assert isinstance(hook, RouterHook) and hook.name == "file" and hook.current() == "blue"
    response = move_traffic(hook, "r-1", "green", "blue", "switch", {}, 5)
    assert response.ok and response.observed_color == "green"
    assert (tmp_path / "live-color").read_text() == "green"
    assert [c["action"] for c in response.calls] == ["switch", "verify"]
    assert rollback_traffic(hook, "r-1", deadline=5, reason="p99").observed_color == "blue"


def test_installed_plugin_answers_router_check(installed, tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.migrator.hook]\nkind = "file"\npath = "live-color"\n')
    env = {"PYTHONPATH": os.pathsep.join([str(installed), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    result = run("router", "check", cwd=tmp_path, env=env, process=True)  # a new process sees the installed plug-in
    assert result.code == 0, result.err
    assert result.out.splitlines() == ["live colour: blue", "router 'file'"]
    (tmp_path / "live-color").write_text("green")
    assert run("router", "check", "--expect", "green", cwd=tmp_path, env=env, process=True).code == 0
    (tmp_path / "live-color").write_text("purple")
    broken = run("router", "check", cwd=tmp_path, env=env, process=True)
    assert broken.code == 2 and "router 'file' cannot tell the live colour: file did not name a colour (it " \
                                "answered 'purple')" in broken.err
    # without the package the kind is unknown: a configuration error
    missing = run("router", "check", cwd=tmp_path, process=True)
    assert missing.code == 2 and "unknown router kind 'file'" in missing.err
