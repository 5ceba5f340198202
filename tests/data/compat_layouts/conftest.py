"""The apps here are copied into temporary git repositories by tests/test_compat_layouts.py; their
suites run only there, under `migrator compat`. Never collect them as part of migrator's own tests."""

collect_ignore_glob = ["*"]
