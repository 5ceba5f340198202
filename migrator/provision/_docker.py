"""The docker provider: a PostgreSQL container from testcontainers, when a Docker engine answers."""

from __future__ import annotations

import importlib.util
import os
import time

from ._provider import Provider
from ._server import Server
from .errors import ProvisionError


class DockerServer(Server):
    owned = True

    def __init__(self, url, container):
        self.container = container
        super().__init__(url, "docker")

    def _shutdown(self) -> None:
        try:
            self.container.stop()
        except Exception as exc:
            raise ProvisionError(f"could not remove container: {exc}", self.provider) from None


class DockerProvider(Provider):
    """A PostgreSQL container (testcontainers) when a Docker engine answers."""

    name = "docker"

    def __init__(self, image: str | None = None):
        self.image = image or os.environ.get("MIGRATOR_DOCKER_IMAGE") or "postgres:16-alpine"

    def unavailable(self) -> str | None:
        if importlib.util.find_spec("testcontainers") is None:
            return "testcontainers is not installed (pip install 'migrator-bluegreen[docker]')"
        try:
            import docker

            client = docker.from_env(timeout=3)
            try:
                client.ping()
            finally:
                client.close()
        except Exception as exc:
            return f"no Docker engine answers ({' '.join(str(exc).split())[:120]})"
        return None

    def start(self) -> Server:
        self._check()
        from testcontainers.postgres import PostgresContainer

        from . import _urls

        started = time.monotonic()
        container = PostgresContainer(self.image, driver="psycopg")
        try:
            container.start()
            url = _urls.parse(container.get_connection_url(), self.name).with_database("postgres")
            server = DockerServer(url, container)
        except BaseException as exc:
            try:
                container.stop()
            except Exception:
                pass
            if isinstance(exc, Exception) and not isinstance(exc, ProvisionError):
                raise ProvisionError(f"cannot start {self.image}: {exc}", self.name) from None
            raise
        try:
            server.connect(timeout=10)
        except BaseException:
            server.stop()
            raise
        server.startup_seconds = time.monotonic() - started
        return server
