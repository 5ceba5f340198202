"""(c) the database from POSTGRES_SERVER, POSTGRES_PORT, POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB."""

from alembic import context
from sqlalchemy import create_engine, pool

from app.config import settings  # raises when the variables are not set (offline mode included)

if context.is_offline_mode():
    context.configure(url=settings.SQLALCHEMY_DATABASE_URI, literal_binds=True,
                      dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()
else:
    engine = create_engine(settings.SQLALCHEMY_DATABASE_URI, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
