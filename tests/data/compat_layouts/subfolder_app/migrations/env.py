"""(a) app in a subfolder: the URL comes from APP_DATABASE_URL (url_var in backend/pyproject.toml)."""

import os

from alembic import context
from sqlalchemy import create_engine, pool

config = context.config


def database_url() -> str:
    return os.environ.get("APP_DATABASE_URL") or config.get_main_option("sqlalchemy.url")


if context.is_offline_mode():
    context.configure(url=database_url(), literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()
else:
    engine = create_engine(database_url(), poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
