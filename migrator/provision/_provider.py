"""The provider interface."""

from __future__ import annotations

from ._server import Server
from .errors import ProvisionError


class Provider:
    """Hands out a Server: `with provider.start() as server: db = server.create_database()`."""

    name = ""

    def unavailable(self) -> str | None:
        """Why this provider cannot be used here (a cheap check, nothing started), or None."""
        return None

    def start(self) -> Server:
        raise NotImplementedError

    def _check(self) -> None:
        reason = self.unavailable()
        if reason:
            raise ProvisionError(reason, self.name)

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"
