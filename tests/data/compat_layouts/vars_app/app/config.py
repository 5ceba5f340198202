"""Settings the way many web apps keep them: the database as separate variables, required at import.

Like the FastAPI full-stack template's `app.core.config.settings`: importing this module without
POSTGRES_SERVER / POSTGRES_USER / POSTGRES_DB set raises, so alembic's env.py cannot even start.
"""

import os
from urllib.parse import quote


class Settings:
    def __init__(self) -> None:
        missing = [k for k in ("POSTGRES_SERVER", "POSTGRES_USER", "POSTGRES_DB") if not os.environ.get(k)]
        if missing:
            raise RuntimeError(f"settings: {', '.join(missing)} not set")
        self.POSTGRES_SERVER = os.environ["POSTGRES_SERVER"]
        self.POSTGRES_PORT = int(os.environ.get("POSTGRES_PORT", "5432"))
        self.POSTGRES_USER = os.environ["POSTGRES_USER"]
        self.POSTGRES_PASSWORD = os.environ.get("POSTGRES_PASSWORD", "")
        self.POSTGRES_DB = os.environ["POSTGRES_DB"]

    @property
    def SQLALCHEMY_DATABASE_URI(self) -> str:
        auth = quote(self.POSTGRES_USER, safe="")
        if self.POSTGRES_PASSWORD:
            auth += ":" + quote(self.POSTGRES_PASSWORD, safe="")
        return f"postgresql+psycopg://{auth}@{self.POSTGRES_SERVER}:{self.POSTGRES_PORT}/{self.POSTGRES_DB}"


settings = Settings()
