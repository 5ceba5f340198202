"""The app refuses to start without its settings, like most do (a secret key, the environment name)."""

import os

missing = [k for k in ("APP_SECRET_KEY", "APP_ENV") if not os.environ.get(k)]
if missing:
    raise RuntimeError(f"cannot start: {', '.join(missing)} not set")

SECRET_KEY = os.environ["APP_SECRET_KEY"]
ENV = os.environ["APP_ENV"]
DATABASE_URL = os.environ.get("DATABASE_URL", "")
