from migrator.phases import Phase, Severity
from migrator.rules._base import Rule
from migrator.rules._objects import create_kind
from migrator.sql.words import dotted_name
from migrator.rules.function_users import fold


class ReplaceFunctionInUse(Rule):
    """Replace a function that a trigger or a view calls.

    ## What it does
    Finds `CREATE OR REPLACE FUNCTION / PROCEDURE f` when an earlier statement
    of the migration, an earlier migration of the run, or the live catalog
    (`migrator plan`) made a trigger execute `f` or a view call it. A warning
    naming those dependants (expand: the schema stays the same). A function
    nothing is known to use stays E120's plain expand.

    ## Why is this bad?
    The new body takes effect for every session the moment it commits: blue's
    inserts and updates now run the new trigger code, and its reads of the
    view compute the new results. Nothing in the schema shows the change, so
    only running blue against it does.

    ## Use instead
    Prove blue on the new definition with `migrator compat` (its own tests on
    the expanded schema) before the release, or create the new behaviour
    under a new function name, point green's trigger or view at it, and drop
    the old function after blue is gone.
    """

    id, name, phase, severity = "E122", "replace-function-in-use", Phase.EXPAND, Severity.WARNING
    commands = (("CREATE", "OR", "REPLACE"),)
    nodes = ()
    fix = ("run `migrator compat` so blue's own tests run on the new definition, or create the new behaviour "
           "under a new name and switch green to it")

    def __init__(self):
        from sqlglot import exp

        self.nodes = (exp.Create,)  # typed CREATE OR REPLACE FUNCTION (LANGUAGE sql bodies)

    def check(self, stmt, ctx):
        words = stmt.words
        if words[1:3] != ("OR", "REPLACE") or not ctx.function_users:
            return
        kind, i, _ = create_kind(words)
        if kind not in ("FUNCTION", "PROCEDURE"):
            return
        name, _ = dotted_name(words, i)
        if name is None:
            return
        users = ctx.function_users.get(fold(stmt.tokens[i].text if words[i].startswith('"') else name))
        if not users:
            return
        shown = sorted(users)
        listed = ", ".join(shown[:5]) + (f" and {len(shown) - 5} more" if len(shown) > 5 else "")
        yield self.hit(f"replaces {kind.lower()} {name}, used by {listed}: blue's writes and reads through them "
                       "run the new definition at once; prove blue on it with `migrator compat`")
