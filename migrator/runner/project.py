"""The user's app as migrator sees it: where it lives, which interpreter runs it, which environment it needs.

    with project_runner("alembic.ini", config) as child:          # classify/lint --alembic-config, plan
        child.render("base:head")
    env = app_env(config, url)                                   # the app's variables for a database

One place decides how a child (migrator.runner) is started for an app: the interpreter (`--python`,
`[tool.migrator] python`, $VIRTUAL_ENV, <project>/.venv or venv, else migrator's own), the app factory and
script_location from `[tool.migrator]`, and the app's environment from `[tool.migrator.compat]` (url_var,
url_form, env_map, env): with no database at hand (offline rendering) it names a placeholder database that
nothing listens on, so settings that validate at import still find their variables.
"""

from __future__ import annotations

from pathlib import Path

from migrator.config import Config

# what the app sees while migrator reads it offline: nothing listens there, nothing connects
OFFLINE_URL = "postgresql+psycopg://migrator:offline@localhost:5432/migrator_offline"  # settings may require a password


def compat_section(config: Config | None) -> dict:
    """The keys [tool.migrator.compat] gives, checked."""
    return config.compat.items() if config is not None else {}


def app_env(config: Config | None, url: str, *, url_var: str | None = None, url_form: str | None = None,
            env_map: dict | None = None, env: dict | None = None) -> dict[str, str]:
    """The variables the app reads its database from, for `url` (migrator.runner.appenv.render_env)."""
    from migrator.runner.appenv import render_env

    section = compat_section(config)
    return render_env(url, url_var if url_var is not None else section.get("url_var", "DATABASE_URL"),
                      url_form or section.get("url_form", "postgresql+psycopg"),
                      env_map if env_map is not None else section.get("env_map") or {},
                      env if env is not None else section.get("env") or {})


def project_runner(alembic_ini: str | Path, config: Config | None = None, *, project_dir: str | Path | None = None,
                   env: dict[str, str] | None = None, python: str | None = None, role: str | None = None, **options):
    """A (not started) runner for the app `config` belongs to; `env` defaults to the offline placeholder."""
    import sys

    from migrator.runner import ProjectRunner, find_python

    config = config or Config()
    folder = Path(project_dir) if project_dir is not None else config.project_dir
    ini = Path(alembic_ini)
    if not ini.is_absolute():  # as typed on the command line (cwd), unless the caller named the project folder
        ini = folder / ini if project_dir is not None or not (Path.cwd() / ini).is_file() else Path.cwd() / ini
    interpreter, _ = find_python(folder, python, config.python, config.source.parent if config.source else None)
    return ProjectRunner(folder, python=interpreter, alembic_ini=str(ini.resolve()), app=config.app,
                         script_location=config.script_location,
                         env=env if env is not None else app_env(config, OFFLINE_URL), role=role,
                         **{"echo": sys.stderr, **options})
