import pytest

from app import notes
from tests.support import run


def test_add_and_get_note():
    async def work(session):
        note = await notes.add_note(session, "Groceries", "eggs, milk")
        again = await notes.get_note(session, note.id)
        return note, again

    note, again = run(work)
    assert again is not None
    assert (again.title, again.body) == ("Groceries", "eggs, milk")
    assert again.created_at.tzinfo is not None


def test_title_is_required():
    with pytest.raises(ValueError):
        run(lambda session: notes.add_note(session, "   "))


def test_body_defaults_to_empty():
    note = run(lambda session: notes.add_note(session, "Just a title"))
    assert note.body == ""


def test_list_notes_in_order():
    async def work(session):
        for title in ("one", "two", "three"):
            await notes.add_note(session, title)
        return [n.title for n in await notes.list_notes(session)]

    assert run(work) == ["one", "two", "three"]


def test_search_title_and_body():
    async def work(session):
        await notes.add_note(session, "Trip to Rome", "book flights")
        await notes.add_note(session, "Reading", "a book about rome")
        await notes.add_note(session, "Unrelated")
        return [n.title for n in await notes.search(session, "rome")]

    assert run(work) == ["Trip to Rome", "Reading"]


def test_count_notes():
    async def work(session):
        await notes.add_note(session, "a")
        await notes.add_note(session, "b")
        return await notes.count_notes(session)

    assert run(work) == 2


def test_delete_note():
    async def work(session):
        note = await notes.add_note(session, "temporary")
        deleted = await notes.delete_note(session, note.id)
        return deleted, await notes.get_note(session, note.id)

    assert run(work) == (True, None)


def test_delete_missing_note():
    assert run(lambda session: notes.delete_note(session, 987654)) is False
