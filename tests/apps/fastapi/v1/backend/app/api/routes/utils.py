from fastapi import APIRouter
from sqlmodel import text

from app.api.deps import SessionDep

router = APIRouter()


@router.get("/health-check/")
def health_check(session: SessionDep) -> bool:
    session.exec(text("SELECT 1"))  # type: ignore[call-overload]
    return True
