from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Note


async def add_note(
    session: AsyncSession, title: str, body: str = "", color: str | None = None, *, author: str = "anonymous"
) -> Note:
    if not title.strip():
        raise ValueError("a note needs a title")
    note = Note(title=title.strip(), body=body, color=color, author=author)
    session.add(note)
    await session.commit()
    await session.refresh(note)
    return note


async def get_note(session: AsyncSession, note_id: int) -> Note | None:
    return await session.get(Note, note_id)


async def list_notes(session: AsyncSession) -> list[Note]:
    return list((await session.scalars(select(Note).order_by(Note.id))).all())


async def search(session: AsyncSession, word: str) -> list[Note]:
    pattern = f"%{word}%"
    query = select(Note).where(Note.title.ilike(pattern) | Note.body.ilike(pattern)).order_by(Note.id)
    return list((await session.scalars(query)).all())


async def by_color(session: AsyncSession, color: str) -> list[Note]:
    return list((await session.scalars(select(Note).where(Note.color == color).order_by(Note.id))).all())


async def by_author(session: AsyncSession, author: str) -> list[Note]:
    return list((await session.scalars(select(Note).where(Note.author == author).order_by(Note.id))).all())


async def count_notes(session: AsyncSession) -> int:
    return await session.scalar(select(func.count()).select_from(Note)) or 0


async def delete_note(session: AsyncSession, note_id: int) -> bool:
    note = await session.get(Note, note_id)
    if note is None:
        return False
    await session.delete(note)
    await session.commit()
    return True
