"""A suite that takes long: the test interrupts migrator while it runs and checks pytest is gone after."""

import os
import time


def test_sleeps(db_connection):
    pidfile = os.environ.get("COMPAT_E2E_PIDFILE")
    if pidfile:
        with open(pidfile + ".tmp", "w") as f:
            f.write(str(os.getpid()))
        os.replace(pidfile + ".tmp", pidfile)
    time.sleep(60)
