from sqlglot import exp

from migrator.phases import Phase
from migrator.rules._base import Rule


class NoSchemaEffect(Rule):
    """Statement without schema or data effect.

    ## What it does
    Classifies statements that change neither the schema nor the data as phase
    `none`: `SET`/`RESET`, `BEGIN`/`COMMIT`/`ROLLBACK`, `SELECT` without side
    effects, `SHOW`, `ANALYZE`, `VACUUM` (not `FULL`), `COMMENT ON`,
    `DISCARD`, `SAVEPOINT`. It reports nothing. `LOCK TABLE` is not among
    them: it blocks, and stays unclassified.

    ## Why is this bad?
    It is not: these statements are safe in any phase. They are listed so that
    a statement is only ever called `none` by a rule that understood it.

    ## Use instead
    Nothing to change.
    """

    id, name, phase, severity = "N404", "no-schema-effect", Phase.NONE, None
    nodes = (exp.Set, exp.Transaction, exp.Commit, exp.Rollback, exp.Select, exp.Analyze, exp.Comment, exp.Show)
    commands = (("RESET",), ("SHOW",), ("DISCARD",), ("ANALYZE",), ("ANALYSE",), ("COMMENT", "ON"),
                ("START", "TRANSACTION"), ("BEGIN",), ("COMMIT",), ("END",), ("SAVEPOINT",), ("RELEASE",),
                ("SET",), ("VACUUM",))

    def check(self, stmt, ctx):
        node = stmt.node
        if isinstance(node, exp.Select):
            # A SELECT may call a function that writes (setval, pg_terminate_backend, user functions).
            if any(not _harmless_call(f) for f in node.find_all(exp.Func) if isinstance(f, exp.Anonymous)):
                return
            if node.args.get("into"):
                return
        elif stmt.words[:1] == ("VACUUM",) and any(w in ("FULL", "FREEZE") for w in stmt.words):
            return
        elif stmt.is_command and stmt.words[:1] == ("SET",) and any(
            w in ("SCHEMA", "TABLESPACE", "LOGGED", "UNLOGGED") for w in stmt.words[1:2]
        ):
            return
        yield self.hit("no schema or data effect")


def _harmless_call(func: exp.Expr) -> bool:
    return func.name.lower() in {"set_config", "current_setting", "pg_advisory_lock", "pg_advisory_unlock",
                                 "pg_advisory_xact_lock", "pg_try_advisory_lock", "version", "current_schema"}
