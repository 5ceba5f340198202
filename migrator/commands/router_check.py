"""`migrator router check`: ask the configured router which colour is live. Nothing moves, nothing is recorded."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class RouterCheckRequest:
    config_path: str | None = None  # [default: <project_dir>/pyproject.toml]
    project_dir: str = "."
    expect: str | None = None  # blue or green: exit 1 unless it is live


@dataclass
class RouterCheckResult:
    router: str
    kind: str
    active_color: str | None  # None: the router named no colour (exit 2)
    expected: str | None
    message: str
    exit_code: int  # 0 it answered (as expected), 1 another colour than expected, 2 no colour

    def to_dict(self) -> dict:
        return {"router": self.router, "kind": self.kind, "active_color": self.active_color,
                "expected": self.expected, "message": self.message}

    @property
    def complaint(self) -> str | None:
        from migrator.routers.check import problem

        return None if self.exit_code == 0 else problem(self.exit_code, self.to_dict())


def router_check(request: RouterCheckRequest) -> RouterCheckResult:
    from migrator.routers.check import router_check as check

    code, result = check(request.config_path, request.project_dir, request.expect)
    return RouterCheckResult(**result, exit_code=code)
