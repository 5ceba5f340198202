"""A suite that cannot be collected."""

import no_such_module_for_compat_e2e  # noqa: F401


def test_never_runs():
    pass
