"""Blue's suite: the settings come from --env and [tool.migrator.compat.env] (the command line wins)."""

import os

from sqlalchemy import text

import settings


def test_settings_reach_the_suite():
    assert settings.ENV == "test"  # --env APP_ENV=test beats the config's "from-config"
    assert settings.SECRET_KEY == "config-secret-4f1c"  # only in the config
    assert os.environ["APP_REGION"] == "eu-west"  # only in the config
    assert os.environ["APP_FEATURE_FLAGS"] == "a=1,b=2"  # only on the command line, "=" inside the value
    assert os.environ["APP_EMPTY"] == ""


def test_insert_and_read(db_connection):
    item = db_connection.execute(text("INSERT INTO items (title) VALUES ('first') RETURNING id")).scalar_one()
    assert db_connection.execute(text("SELECT title FROM items WHERE id = :i"), {"i": item}).scalar_one() == "first"
