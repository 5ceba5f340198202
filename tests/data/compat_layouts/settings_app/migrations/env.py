"""(d) env.py imports the app's settings, which need APP_SECRET_KEY and APP_ENV to import at all."""

from alembic import context
from sqlalchemy import create_engine, pool

import settings  # found through prepend_sys_path = .

config = context.config
url = settings.DATABASE_URL or config.get_main_option("sqlalchemy.url")

if context.is_offline_mode():
    context.configure(url=url, literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()
else:
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
