from datetime import datetime, timezone

import sqlalchemy as sa


class TZDateTime(sa.types.TypeDecorator):
    """A timestamp stored WITH TIME ZONE that always comes back timezone-aware (UTC for naive input)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


def utcnow():
    return datetime.now(timezone.utc)
