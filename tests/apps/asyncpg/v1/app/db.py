import os

from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool


def database_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgresql+asyncpg://"):
        raise RuntimeError("DATABASE_URL must be a postgresql+asyncpg:// URL")
    return url


def make_engine(**kwargs) -> AsyncEngine:
    kwargs.setdefault("poolclass", NullPool)
    return create_async_engine(database_url(), **kwargs)
