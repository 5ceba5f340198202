"""The nginx router's probe never raises, whatever address a target names: a target without a usable host (":8082",
"[::1") makes its gate fail with a message, not crash with a TypeError / AttributeError. No nginx needed: the gate
probes the targets directly."""

from __future__ import annotations

import pytest

from migrator.routers import HookPayload
from migrator.routers.nginx import NginxRouter


@pytest.mark.parametrize("target", [":8082", "[::1", "[::1:8082"])
def test_a_target_without_a_usable_host_fails_the_gate_without_raising(tmp_path, target):
    router = NginxRouter(tmp_path / "upstream.conf", {"blue": "127.0.0.1:8081", "green": target},
                         "http://127.0.0.1/h", probe_timeout=0.5)
    probe = router.probe(f"http://{target}/h")
    assert (probe.color, probe.status) == (None, None) and "invalid URL" in probe.detail
    response = router.gate(HookPayload("r-1", "switch", "gate", "blue", "green"))
    assert response.status == "failed"
    assert f"green's server {target} is not healthy" in response.message and "invalid URL" in response.message
