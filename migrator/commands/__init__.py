"""One function per user command: a typed request in, a typed result out.

    from migrator.commands.classify import ClassifyRequest, classify
    result = classify(ClassifyRequest(paths=["m.sql"]))

Errors are MigratorError subclasses carrying their exit code (migrator.errors); migrator.cli parses the options,
calls the command, renders the result (migrator.commands.render) and maps errors to exits in one place.
A result has `exit_code` (0 ok, 1 policy said no, 2 error) and `complaint` (one line for stderr, or None).
Modules here import their feature packages inside the functions: `migrator --help` stays fast.
"""
