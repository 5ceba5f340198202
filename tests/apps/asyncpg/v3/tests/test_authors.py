from app import notes
from tests.support import run


def test_notes_have_an_author():
    note = run(lambda session: notes.add_note(session, "mine", author="ada"))
    assert note.author == "ada"


def test_anonymous_by_default():
    assert run(lambda session: notes.add_note(session, "who wrote this")).author == "anonymous"


def test_notes_by_author():
    async def work(session):
        await notes.add_note(session, "a", author="ada")
        await notes.add_note(session, "b", author="grace")
        await notes.add_note(session, "c", author="ada")
        return [n.title for n in await notes.by_author(session, "ada")]

    assert run(work) == ["a", "c"]
