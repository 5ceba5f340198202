from sqlmodel import Session, func, select, text

from app import crud
from app.models import Item, ItemCreate
from app.tests.utils.user import create_random_user


def test_delete_user_relies_on_cascade(db: Session) -> None:
    user = create_random_user(db)
    for n in range(2):
        crud.create_item(session=db, item_in=ItemCreate(title=f"item {n}"), owner_id=user.id)
    user_id = user.id
    crud.delete_user(session=db, db_user=user)
    db.expire_all()
    assert db.exec(select(func.count()).select_from(Item).where(Item.owner_id == user_id)).one() == 0


def test_deleting_a_user_row_deletes_their_items(db: Session) -> None:
    user = create_random_user(db)
    user_id = user.id
    crud.create_item(session=db, item_in=ItemCreate(title="orphan-to-be"), owner_id=user_id)
    db.exec(text('DELETE FROM "user" WHERE id = :id'), params={"id": user_id})  # type: ignore[call-overload]
    db.commit()
    db.expire_all()
    assert db.exec(select(func.count()).select_from(Item).where(Item.owner_id == user_id)).one() == 0
