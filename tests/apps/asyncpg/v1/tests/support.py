import asyncio

from sqlalchemy.ext.asyncio import AsyncSession

from app.db import make_engine


def run(work):
    """Run `await work(session)` in a fresh event loop with a fresh engine (plain tests, no plugin)."""

    async def main():
        engine = make_engine()
        try:
            async with AsyncSession(engine, expire_on_commit=False) as session:
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(main())
