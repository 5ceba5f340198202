"""acme_router: keeps the live colour in a file (a stand-in for a load balancer's API)."""
from pathlib import Path


class FileRouter:
    name = "file"

    def __init__(self, path: Path):
        self.path = path

    @classmethod
    def from_config(cls, config: dict, *, project_dir=None):
        if "path" not in config:
            raise ValueError('kind = "file" needs path = "..."')
        return cls(Path(project_dir or ".") / config["path"])

    def switch(self, payload):
        if not payload.dry_run:
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(payload.to_color)
            tmp.replace(self.path)  # atomic; setting the same colour again is harmless
        return {"status": "succeeded", "message": f"live colour set to {payload.to_color}"}

    def verify(self, payload):
        live = self.current()
        status = "succeeded" if live == payload.to_color else "in_progress"
        return {"status": status, "observed": {"active_color": live}}

    def current(self):
        return self.path.read_text() if self.path.exists() else "blue"
