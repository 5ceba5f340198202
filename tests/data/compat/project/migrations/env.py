"""env.py of the compat test project: online and offline modes, DATABASE_URL first."""

import os
from logging.config import fileConfig
from pathlib import Path

from alembic import context
from sqlalchemy import engine_from_config, pool

import appinfo  # the app's own module, found through prepend_sys_path = .

if Path(appinfo.__file__).resolve().parent != Path.cwd().resolve():
    raise RuntimeError(f"appinfo leaked from {appinfo.__file__} into {Path.cwd()}")
if os.environ.get("COMPAT_TEST_EXPECT_TREE") and appinfo.TREE != os.environ["COMPAT_TEST_EXPECT_TREE"]:
    raise RuntimeError(f"appinfo.TREE is {appinfo.TREE}")
if os.environ.get("COMPAT_TEST_ENV_FAIL"):
    raise RuntimeError("env.py refuses to start")

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def database_url() -> str:
    return os.environ.get("DATABASE_URL") or config.get_main_option("sqlalchemy.url")


def run_migrations_offline() -> None:
    context.configure(url=database_url(), target_metadata=None, literal_binds=True,
                      dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    section = config.get_section(config.config_ini_section, {})
    section["sqlalchemy.url"] = database_url()
    engine = engine_from_config(section, prefix="sqlalchemy.", poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=None,
                          transaction_per_migration=bool(os.environ.get("COMPAT_TEST_PER_MIGRATION")))
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
