import os

import flask_migrate
from flask import Flask

from app.extensions import db, migrate


def create_app(config=None, *, migrate_on_start=False, check_schema_on_start=True):
    """The application factory.

    The database is migrated by the release (expand before the switch, contract after), never by the
    app at start-up: during a blue-green release the running version must be able to restart on a
    database that the next version has already expanded. At start-up the app only checks that the
    database is at a revision it is known to run on (migrator.startup).
    """
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

    if migrate_on_start:  # local development only
        with app.app_context():
            flask_migrate.upgrade()
    if check_schema_on_start:
        # imported here: only the deployed app needs migrator, not the test or migration tooling
        from migrator.startup import check_schema

        with app.app_context():
            app.logger.warning(check_schema(db.engine, script_location="migrations"))
    return app
