"""migrator.compat.suite: an app's own pytest suite in a subprocess, its verdict read from JUnit XML.

Every test writes a small app into tmp_path and runs real pytest on it; the fault tests prove that
nothing the suite started outlives run_suite (timeout, signals, Ctrl-C and SIGTERM in the parent).
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from migrator.compat.errors import CompatError, SuiteError
from migrator.compat.suite import SuiteResult, _NodeIds, run_suite

MIXED = '''
import os
import pytest

def test_ok():
    pass

def test_fail():
    assert 1 + 1 == 3

@pytest.fixture
def broken():
    raise RuntimeError("database is down\\nsecond line")

def test_error(broken):
    pass

@pytest.mark.skip(reason="not today")
def test_skip():
    pass

@pytest.mark.xfail(reason="known")
def test_xfail():
    assert False

class TestUsers:
    @pytest.mark.parametrize("name", ["ada", "a.b"])
    def test_rename(self, name):
        raise ValueError(f"column users.name of {name} does not exist")

def test_env():
    assert os.environ["DATABASE_URL"] == "postgresql://example/db"
    assert os.environ["APP_ENV"] == "compat"
'''


def write_app(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead for our purposes (its parent has not reaped it yet)
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return False


def wait_gone(*pids: int, within: float = 5.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if not any(alive(p) for p in pids):
            return True
        time.sleep(0.02)
    return False


def wait_file(path: Path, within: float = 20.0) -> str:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().strip():
            time.sleep(0.05)
            return path.read_text()
        time.sleep(0.02)
    raise AssertionError(f"{path} never appeared")


def test_counts_failures_and_output(tmp_path):
    app = write_app(tmp_path, {"compat_tests/test_users.py": MIXED, "compat_tests/sub/test_orders.py": "def test_b(): pass\n"})
    out = io.StringIO()
    result = run_suite(app, "compat_tests", sys.executable, {"DATABASE_URL": "postgresql://example/db", "APP_ENV": "compat"},
                       timeout=60, stream=out)
    assert (result.passed, result.failed, result.errors, result.skipped, result.total) == (3, 3, 1, 2, 9)
    assert result.exit_code == 1 and not result.killed and result.collection_error is None and not result.ok
    assert [f[:2] for f in result.failures] == [
        ("compat_tests/test_users.py::test_fail", "assert (1 + 1) == 3"),
        ("compat_tests/test_users.py::test_error", "RuntimeError: database is down"),
        ("compat_tests/test_users.py::TestUsers::test_rename[ada]", "ValueError: column users.name of ada does not exist"),
        ("compat_tests/test_users.py::TestUsers::test_rename[a.b]", "ValueError: column users.name of a.b does not exist"),
    ]
    test, line = result.failures[0]  # unpacks as a pair
    assert test.endswith("::test_fail")
    streamed = out.getvalue()
    assert "3 failed, 3 passed, 1 skipped, 1 xfailed, 1 error" in streamed
    assert any("3 failed, 3 passed, 1 skipped, 1 xfailed, 1 error" in line for line in result.output_tail)
    assert result.junit_path is None and not list(tmp_path.glob("**/.pytest_cache"))
    assert result.command[1:3] == ["-m", "pytest"] and "-p" in result.command and "no:cacheprovider" in result.command


def test_teardown_errors_count_once_per_test(tmp_path):
    app = write_app(tmp_path, {"compat_tests/test_t.py": '''
        import pytest

        @pytest.fixture
        def leaky():
            yield
            raise KeyError("teardown boom")

        def test_teardown_only(leaky):
            pass

        def test_call_and_teardown(leaky):
            assert False, "call boom"

        def test_explicit():
            pytest.fail("explicit")
        '''})
    result = run_suite(app, "compat_tests", stream=None)
    assert (result.passed, result.failed, result.errors, result.total) == (0, 2, 1, 3)
    assert [f[:2] for f in result.failures] == [
        ("compat_tests/test_t.py::test_teardown_only", "KeyError: 'teardown boom'"),
        ("compat_tests/test_t.py::test_call_and_teardown", "AssertionError: call boom"),
        ("compat_tests/test_t.py::test_explicit", "Failed: explicit"),
    ]


def test_all_pass_is_ok(tmp_path):
    app = write_app(tmp_path, {"compat_tests/test_a.py": "def test_a(): pass\ndef test_b(): pass\n"})
    result = run_suite(app, "compat_tests", stream=None)
    assert result.ok and result.exit_code == 0 and (result.passed, result.total, result.failures) == (2, 2, [])
    assert 0 < result.duration < 30


def test_no_tests_is_total_zero(tmp_path):
    app = write_app(tmp_path, {"compat_tests/test_nothing.py": "X = 1\n", "compat_tests/helpers.py": ""})
    result = run_suite(app, "compat_tests", stream=None)
    assert result.exit_code == 5 and result.total == 0 and result.collection_error is None and not result.ok


def test_collection_error(tmp_path):
    app = write_app(tmp_path, {
        "compat_tests/test_fine.py": "def test_fine(): pass\n",
        "compat_tests/test_broken.py": "import no_such_module_here\n\ndef test_x(): pass\n",
    })
    result = run_suite(app, "compat_tests", stream=None)
    assert result.exit_code == 2 and not result.ok
    assert result.collection_error == ("compat_tests/test_broken.py: ModuleNotFoundError: No module named "
                                       "'no_such_module_here'")
    assert result.total == 0  # pytest stops after collection errors
    assert result.failures[0].nodeid == "compat_tests/test_broken.py"


def test_syntax_error_in_conftest(tmp_path):
    app = write_app(tmp_path, {"compat_tests/conftest.py": "def broken(:\n", "compat_tests/test_a.py": "def test_a(): pass\n"})
    result = run_suite(app, "compat_tests", stream=None)
    assert result.exit_code == 4 and not result.ok
    assert result.collection_error and "conftest.py" in result.collection_error


def test_the_apps_own_config_is_respected(tmp_path):
    app = write_app(tmp_path, {
        "pytest.ini": "[pytest]\naddopts = -m 'not slow'\nmarkers =\n    slow: slow\n",
        "compat_tests/test_a.py": "import pytest\n\ndef test_a(): pass\n\n@pytest.mark.slow\ndef test_slow(): assert False\n",
    })
    result = run_suite(app, "compat_tests", stream=None)
    assert result.ok and result.total == 1


def test_project_in_a_subfolder_and_node_ids(tmp_path):
    """The app lives in backend/ with its own pytest.ini: node ids are relative to its rootdir."""
    app = write_app(tmp_path / "backend", {
        "pytest.ini": "[pytest]\n",
        "tests/compat/__init__.py": "",
        "tests/compat/test_api.py": "class TestApi:\n    def test_get(self):\n        assert 'a' == 'b'\n",
    })
    result = run_suite(app, "tests/compat", stream=None)
    assert [f[:2] for f in result.failures] == [("tests/compat/test_api.py::TestApi::test_get", "AssertionError: assert 'a' == 'b'")]


def test_several_paths_and_node_ids_select(tmp_path):
    app = write_app(tmp_path, {"t1/test_a.py": "def test_a(): pass\ndef test_b(): assert 0\n", "t2/test_c.py": "def test_c(): pass\n"})
    result = run_suite(app, ["t1/test_a.py::test_a", "t2"], stream=None, args=["-p", "no:randomly"])
    assert result.ok and result.total == 2


def test_junit_path_is_kept_when_given(tmp_path):
    app = write_app(tmp_path / "app", {"compat_tests/test_a.py": "def test_a(): pass\n"})
    junit = tmp_path / "out" / "junit.xml"
    junit.parent.mkdir()
    result = run_suite(app, "compat_tests", stream=None, junit_path=junit)
    assert result.junit_path == junit.resolve() and "<testsuite" in junit.read_text()


@pytest.mark.parametrize("suite, message", [
    ("compat_tests", "test suite 'compat_tests' not found in"),
    ("compat_tests/test_x.py::test_a", "test suite 'compat_tests/test_x.py' not found in"),
])
def test_missing_suite_is_a_clear_error_before_running(tmp_path, suite, message):
    started = time.monotonic()
    with pytest.raises(SuiteError) as info:
        run_suite(tmp_path, suite, stream=None)
    assert message in str(info.value) and isinstance(info.value, CompatError) and info.value.exit_code == 2
    assert time.monotonic() - started < 0.2  # nothing was started


def test_missing_workdir_and_interpreter(tmp_path):
    with pytest.raises(SuiteError, match="suite folder .* does not exist"):
        run_suite(tmp_path / "nope", "compat_tests")
    write_app(tmp_path, {"compat_tests/test_a.py": "def test_a(): pass\n"})
    with pytest.raises(SuiteError, match="python interpreter '/no/such/python' not found"):
        run_suite(tmp_path, "compat_tests", "/no/such/python")
    with pytest.raises(SuiteError, match="python interpreter 'no-such-python-3.99' not found"):
        run_suite(tmp_path, "compat_tests", "no-such-python-3.99")


def test_relative_interpreter_path_is_relative_to_our_cwd(tmp_path, monkeypatch):
    app = write_app(tmp_path / "app", {"compat_tests/test_a.py": "def test_a(): pass\n"})
    here = Path(sys.executable).parent.parent
    monkeypatch.chdir(here)
    result = run_suite(app, "compat_tests", os.path.relpath(sys.executable, here), stream=None)
    assert result.ok and result.command[0] == str(here / os.path.relpath(sys.executable, here))


def test_interpreter_without_pytest(tmp_path):
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "venv")], check=True)
    app = write_app(tmp_path / "app", {"compat_tests/test_a.py": "def test_a(): pass\n"})
    with pytest.raises(SuiteError, match=r"pytest is not installed for .*venv/bin/python"):
        run_suite(app, "compat_tests", str(tmp_path / "venv" / "bin" / "python"), stream=None)


SLEEPER = '''
import os, subprocess, sys, time
from pathlib import Path

def test_sleeps():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    Path(os.environ["PIDS_FILE"]).write_text(f"{os.getpid()} {child.pid}")
    time.sleep(60)
'''


def test_timeout_kills_the_whole_group(tmp_path):
    pids_file = tmp_path / "pids"
    app = write_app(tmp_path / "app", {"compat_tests/test_sleep.py": SLEEPER})
    started = time.monotonic()
    result = run_suite(app, "compat_tests", env={"PIDS_FILE": str(pids_file)}, timeout=3, stream=None)
    assert time.monotonic() - started < 3 + 2 + 2  # timeout + SIGTERM grace + slack
    assert result.killed and result.timed_out and result.killed_reason == "timed out after 3s"
    assert result.signal == "SIGTERM" and result.exit_code == -signal.SIGTERM and not result.ok
    pids = [int(p) for p in pids_file.read_text().split()]
    assert wait_gone(*pids), "a process of the suite survived the timeout"


def test_killed_by_a_signal(tmp_path):
    app = write_app(tmp_path, {"compat_tests/test_die.py": (
        "import os, signal\n\ndef test_ok(): pass\n\ndef test_die():\n    os.kill(os.getpid(), signal.SIGKILL)\n")})
    result = run_suite(app, "compat_tests", stream=None)
    assert result.killed and not result.timed_out and result.signal == "SIGKILL"
    assert result.killed_reason == "killed by SIGKILL" and result.exit_code == -9 and not result.ok


def test_stragglers_holding_the_output_are_ended(tmp_path):
    """A test leaves a process behind that keeps pytest's stdout open (-s): run_suite neither waits for it
    to close the pipe nor leaves it running."""
    pids_file = tmp_path / "pids"
    app = write_app(tmp_path / "app", {"compat_tests/test_leak.py": '''
        import os, subprocess, sys
        from pathlib import Path

        def test_leaks():
            child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
            Path(os.environ["PIDS_FILE"]).write_text(str(child.pid))
        '''})
    started = time.monotonic()
    result = run_suite(app, "compat_tests", env={"PIDS_FILE": str(pids_file)}, args=["-s"], stream=None)
    assert result.ok and time.monotonic() - started < 10
    assert wait_gone(int(pids_file.read_text()))


PARENT = '''
import sys
from migrator.compat.suite import run_suite
from migrator.provision import _signals

_signals.acquire()  # SIGTERM -> SignalExit, as in `migrator compat`
try:
    run_suite(sys.argv[1], "compat_tests", env={"PIDS_FILE": sys.argv[2]}, timeout=120)
except BaseException as exc:
    print("raised", type(exc).__name__, flush=True)
    raise
'''


@pytest.mark.parametrize("signum, raised", [(signal.SIGINT, "KeyboardInterrupt"), (signal.SIGTERM, "SignalExit")])
def test_interrupt_in_the_parent_kills_the_group_and_propagates(tmp_path, signum, raised):
    pids_file = tmp_path / "pids"
    app = write_app(tmp_path / "app", {"compat_tests/test_sleep.py": SLEEPER})
    parent = subprocess.Popen([sys.executable, "-c", PARENT, str(app), str(pids_file)], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True)
    try:
        pids = [int(p) for p in wait_file(pids_file).split()]
        parent.send_signal(signum)
        out, _ = parent.communicate(timeout=15)
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
    assert f"raised {raised}" in out
    assert parent.returncode != 0
    assert wait_gone(*pids), "a process of the suite survived the interrupt"


def test_node_ids_without_files():
    ids = _NodeIds(Path("/nonexistent/app"))
    assert ids.nodeid("tests.test_x.TestY", "test_z[1]") == "tests/test_x.py::TestY::test_z[1]"
    assert ids.nodeid("test_x", "test_z") == "test_x.py::test_z"
    assert ids.nodeid("tests.test_x.TestY.TestInner", "t") == "tests/test_x.py::TestY::TestInner::t"


def test_result_ok_needs_tests():
    assert not SuiteResult(exit_code=0).ok
    assert SuiteResult(exit_code=0, passed=1, total=1).ok
    assert not SuiteResult(exit_code=0, passed=1, total=1, killed=True).ok
