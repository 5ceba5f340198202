from sqlmodel import Session, select

from app import crud
from app.models import Item, ItemCreate
from app.tests.utils.item import create_random_item
from app.tests.utils.user import create_random_user


def test_create_item(db: Session) -> None:
    user = create_random_user(db)
    item = crud.create_item(session=db, item_in=ItemCreate(title="Foo", description="Bar"), owner_id=user.id)
    assert item.id is not None
    assert item.owner_id == user.id
    assert item.owner is not None and item.owner.email == user.email


def test_items_of_a_user(db: Session) -> None:
    item = create_random_item(db)
    assert item.owner is not None
    db.refresh(item.owner)
    assert [i.id for i in item.owner.items] == [item.id]


def test_delete_user_deletes_items(db: Session) -> None:
    item = create_random_item(db)
    owner = item.owner
    assert owner is not None
    owner_id = owner.id
    crud.delete_user(session=db, db_user=owner)
    db.expire_all()
    assert db.exec(select(Item).where(Item.owner_id == owner_id)).all() == []
