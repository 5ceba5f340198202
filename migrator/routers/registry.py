"""Router hook kinds: the built-ins plus the `migrator.routers` entry points of installed packages.

    [tool.migrator.hook]
    kind = "command"            # a built-in kind, or the name of a `migrator.routers` entry point
    ...                         # the rest of the table goes to the router's from_config()

A third-party package declares, in its pyproject.toml:

    [project.entry-points."migrator.routers"]
    consul = "acme_router:ConsulRouter"

and `ConsulRouter.from_config(config, *, project_dir=None)` (or `ConsulRouter(config)`) returns an object with
switch(payload), verify(payload) and current() (see migrator.routers.base.RouterHook).
"""

from __future__ import annotations

import importlib
from pathlib import Path

from migrator.errors import ConfigError
from migrator.routers.base import RouterHook

ENTRY_POINT_GROUP = "migrator.routers"

# kind -> "module:attribute"; imported only when used. The next built-ins (webhook, nginx) go here.
BUILTIN_ROUTERS: dict[str, str] = {
    "command": "migrator.routers.command:CommandHook",
    "webhook": "migrator.routers.webhook:WebhookHook",
    "nginx": "migrator.routers.nginx:NginxRouter",
}


def _load(target: str):
    module, _, attr = target.partition(":")
    value = importlib.import_module(module)
    for part in attr.split(".") if attr else ():
        value = getattr(value, part)
    return value


def _entry_points() -> dict:
    from importlib.metadata import entry_points

    found: dict = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in found and found[ep.name].value != ep.value:
            raise ConfigError(f"two installed packages register the router kind {ep.name!r}: "
                              f"{found[ep.name].value} and {ep.value}")
        found[ep.name] = ep
    return found


def router_kinds() -> dict[str, str]:
    """Every available kind -> where it comes from ("builtin" or the entry point's module:attr)."""
    kinds = {kind: "builtin" for kind in BUILTIN_ROUTERS}
    for name, ep in _entry_points().items():
        kinds.setdefault(name, ep.value)
    return dict(sorted(kinds.items()))


def router_factory(kind: str):
    """The class or factory of `kind`. Built-in kinds cannot be replaced by a plug-in."""
    if kind in BUILTIN_ROUTERS:
        return _load(BUILTIN_ROUTERS[kind])
    ep = _entry_points().get(kind)
    if ep is None:
        raise ConfigError(f"[tool.migrator.hook]: unknown router kind {kind!r} (available: "
                          f"{', '.join(router_kinds())}; plug-ins register under the {ENTRY_POINT_GROUP!r} "
                          "entry-point group)")
    try:
        return ep.load()
    except Exception as exc:
        raise ConfigError(f"cannot load router plug-in {kind!r} ({ep.value}): {type(exc).__name__}: {exc}") from exc


def get_hook(config: dict | None, *, project_dir=None) -> RouterHook:
    """Build the router hook described by a [tool.migrator.hook] table. Raises ConfigError when there is none,
    the kind is unknown, or the router rejects its configuration."""
    if not config:
        raise ConfigError('no router hook configured: add [tool.migrator.hook] with kind = "command" and '
                          'command = ["./router.sh"] (see docs/hooks.md)')
    if not isinstance(config, dict):
        raise ConfigError("[tool.migrator.hook] must be a table")
    kind = config.get("kind", "command" if "command" in config else None)
    if not isinstance(kind, str) or not kind:
        raise ConfigError("[tool.migrator.hook]: kind is missing (e.g. kind = \"command\")")
    factory = router_factory(kind)
    config = {**config, "kind": kind}
    try:
        if hasattr(factory, "from_config"):
            hook = factory.from_config(config, project_dir=project_dir)
        elif callable(factory):
            hook = factory(config)
        else:
            raise ConfigError(f"router kind {kind!r} is neither a class nor a factory")
    except ConfigError:
        raise
    except Exception as exc:
        raise ConfigError(f"[tool.migrator.hook]: router {kind!r} rejected its configuration: "
                          f"{type(exc).__name__}: {exc}") from exc
    if not isinstance(hook, RouterHook):
        missing = [m for m in ("switch", "verify", "current") if not callable(getattr(hook, m, None))]
        raise ConfigError(f"router {kind!r} does not implement the router protocol (missing: {', '.join(missing)})")
    if getattr(hook, "name", None) is None:
        try:
            setattr(hook, "name", kind)  # optional, so not in the RouterHook protocol
        except AttributeError:
            pass
    return hook


def hook_config(pyproject_path) -> dict:
    """The [tool.migrator.hook] table of a pyproject.toml (a directory means its pyproject.toml); {} when absent."""
    from migrator.config import load_project_config

    return load_project_config(pyproject_path).hook


def load_hook(pyproject_path, *, project_dir=None) -> RouterHook:
    """get_hook() on the [tool.migrator.hook] table of `pyproject_path`; relative commands resolve against
    `project_dir` (default: the pyproject's directory)."""
    path = Path(pyproject_path)
    base = path if path.is_dir() else path.parent
    return get_hook(hook_config(path), project_dir=project_dir if project_dir is not None else base)
