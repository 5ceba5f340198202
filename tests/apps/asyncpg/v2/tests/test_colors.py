from app import notes
from tests.support import run


def test_color_is_optional():
    assert run(lambda session: notes.add_note(session, "plain")).color is None


def test_notes_by_color():
    async def work(session):
        await notes.add_note(session, "sky", color="blue")
        await notes.add_note(session, "grass", color="green")
        await notes.add_note(session, "sea", color="blue")
        return [n.title for n in await notes.by_color(session, "blue")]

    assert run(work) == ["sky", "sea"]
