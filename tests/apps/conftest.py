# The fixture apps' own suites and conftest files are not migrator's tests: never collect them here.
collect_ignore = ["fastapi", "flask", "asyncpg"]
