import os

import flask_migrate
from flask import Flask

from app.extensions import db, migrate


def create_app(config=None, *, migrate_on_start=True):
    """The application factory. By default the database is upgraded to the latest migration at start-up,
    so a fresh deployment needs no separate migration step."""
    app = Flask(__name__)
    database_url = os.environ.get("DATABASE_URL")
    if not database_url:
        raise RuntimeError("DATABASE_URL is not set (e.g. postgresql://user:password@localhost/microblog)")
    app.config.update(
        SQLALCHEMY_DATABASE_URI=database_url,
        SQLALCHEMY_TRACK_MODIFICATIONS=False,
        JSON_SORT_KEYS=False,
    )
    if config:
        app.config.update(config)

    db.init_app(app)
    migrate.init_app(app, db)

    from app import models  # noqa: F401  (the models must be known before any migration runs)
    from app.routes import bp

    app.register_blueprint(bp)

    if migrate_on_start:
        with app.app_context():
            flask_migrate.upgrade()
    return app
