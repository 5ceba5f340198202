"""`migrator serve`: a read-only HTTP server of the switch and contract gates (Argo Rollouts, Flagger)."""

from __future__ import annotations

from dataclasses import dataclass, field

from migrator.commands.options import ReleaseOptions


@dataclass
class ServeRequest:
    options: ReleaseOptions = field(default_factory=ReleaseOptions)
    host: str = "127.0.0.1"
    port: int = 8080  # 0: any free port, logged at start
    token_env: str | None = None  # [default: MIGRATOR_SERVE_TOKEN]
    no_auth: bool = False
    evidence: str | None = None  # re-read on every request; without it the switch gate refuses


@dataclass
class ServeResult:
    exit_code: int  # once stopped by SIGTERM or SIGINT: 0
    complaint = None


def serve(request: ServeRequest) -> ServeResult:
    """Serve until SIGTERM or SIGINT."""
    from migrator.serve import ServeOptions, serve as run_server, token_from_env

    ctx = request.options.context(evidence=request.evidence)
    options = ServeOptions(host=request.host, port=request.port,
                           token=token_from_env(request.token_env, request.no_auth))
    return ServeResult(run_server(ctx, options))
