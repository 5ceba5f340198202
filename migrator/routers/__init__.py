"""Router hooks: how migrator moves traffic between blue and green (contract `bg-hook/v1`, docs/hooks.md).

    protocol.py   HookPayload, HookResponse, constants (actions, phases, statuses, exit codes)
    base.py       RouterHook protocol; call() invokes a hook fail-closed; HookFailed
    command.py    CommandHook: a program per call, payload on stdin, BG_* env vars, exit 0 / 75 / other
    traffic.py    move_traffic(): switch then verify until confirmed or the deadline; rollback_traffic()
    webhook.py    WebhookHook: POST the payload, HMAC-SHA256 signed with a secret from the environment
    nginx.py      NginxRouter: owns an upstream include file; atomic write, nginx -t, reload, probe
    check.py      what `migrator router check` asks a router
    registry.py   get_hook(config): built-in kinds + the `migrator.routers` entry-point group
"""

from migrator.routers.base import HookFailed, RouterHook, call, hook_name
from migrator.routers.command import CommandHook
from migrator.routers.protocol import (
    ACTIONS, BLUE, COLORS, CURRENT, EXIT_IN_PROGRESS, EXIT_SUCCEEDED, FAILED, GATE, GREEN, IN_PROGRESS, INCONCLUSIVE,
    PHASES, ROLLBACK, SCHEMA, STATUSES, SUCCEEDED, SWITCH, VERIFY, HookPayload, HookResponse, ResponseError)
from migrator.routers.registry import ENTRY_POINT_GROUP, get_hook, hook_config, load_hook, router_kinds
from migrator.routers.traffic import move_traffic, rollback_traffic

__all__ = [
    "ACTIONS", "BLUE", "COLORS", "CURRENT", "ENTRY_POINT_GROUP", "EXIT_IN_PROGRESS", "EXIT_SUCCEEDED", "FAILED",
    "GATE", "GREEN", "IN_PROGRESS", "INCONCLUSIVE", "PHASES", "ROLLBACK", "SCHEMA", "STATUSES", "SUCCEEDED",
    "SWITCH", "VERIFY", "CommandHook", "HookFailed", "HookPayload", "HookResponse", "ResponseError", "RouterHook", "call",
    "get_hook", "hook_config", "hook_name", "load_hook", "move_traffic", "rollback_traffic", "router_kinds",
]
