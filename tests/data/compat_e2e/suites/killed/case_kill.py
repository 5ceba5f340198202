"""A suite whose pytest dies from SIGKILL halfway (out of memory killer, a crashing extension...)."""

import os
import signal


def test_first(db_connection):
    pass


def test_dies():
    os.kill(os.getpid(), signal.SIGKILL)
