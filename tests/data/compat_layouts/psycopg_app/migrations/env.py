"""(e) an app on psycopg directly: DATABASE_URL is a plain libpq URL (postgresql://...), which
SQLAlchemy would hand to psycopg2; alembic gets connections from psycopg through `creator`."""

import os

import psycopg
from alembic import context
from sqlalchemy import create_engine, pool

url = os.environ.get("DATABASE_URL", "")

if context.is_offline_mode():
    context.configure(dialect_name="postgresql", literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    if not url.startswith("postgresql://"):
        raise RuntimeError(f"expected a libpq URL in DATABASE_URL, got scheme {url.split(':', 1)[0]!r}")
    engine = create_engine("postgresql+psycopg://", creator=lambda: psycopg.connect(url), poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
