from sqlglot import exp

from migrator.phases import Lock, Phase, Rewrite, Severity
from migrator.rules._base import Rule, table_name
from migrator.rules._objects import skip_parens
from migrator.sql.words import alter_target


class AlterIndex(Rule):
    """Alter index.

    ## What it does
    Classifies `ALTER INDEX` forms that change neither schema nor data as
    phase `none` (info): `RENAME TO`, `SET (...)` / `RESET (...)` storage
    parameters, `ALTER [COLUMN] n SET STATISTICS`, `ATTACH PARTITION`,
    `[NO] DEPENDS ON EXTENSION`; all take at most SHARE UPDATE EXCLUSIVE.
    `SET TABLESPACE` is an error: it copies the index under an ACCESS
    EXCLUSIVE lock.

    ## Why is this bad?
    Mostly it is not. Renaming an index that backs a constraint renames the
    constraint too, which breaks `ON CONFLICT ON CONSTRAINT old_name`. Moving
    an index to another tablespace blocks every query on its table for as
    long as the copy takes.

    ## Use instead
    To move an index, build a new one concurrently in the target tablespace
    (`CREATE INDEX CONCURRENTLY ... TABLESPACE t`) and drop the old one
    concurrently.
    """

    id, name, phase, severity = "N405", "alter-index", Phase.NONE, Severity.INFO
    lock = Lock.SHARE_UPDATE_EXCLUSIVE
    nodes = (exp.Alter,)
    commands = (("ALTER", "INDEX"),)
    fix = ""
    _move_fix = "CREATE INDEX CONCURRENTLY ... TABLESPACE new_space, then DROP INDEX CONCURRENTLY the old one"

    def check(self, stmt, ctx):
        node = stmt.node
        if isinstance(node, exp.Alter):
            if (node.args.get("kind") or "").upper() != "INDEX":
                return
            name = table_name(node.this)
            for i, action in enumerate(node.args.get("actions") or []):
                if isinstance(action, exp.AlterRename):
                    yield self.hit(f"renames index {name} to {table_name(action.this)} (a constraint it backs is "
                                   "renamed too)", action=i)
                elif isinstance(action, exp.AlterSet) and action.args.get("tablespace") is not None \
                        and len([v for v in action.args.values() if v]) == 1:
                    yield self._move(f"index {name}", action=i)
                elif isinstance(action, exp.AlterSet) and action.expressions \
                        and len([v for v in action.args.values() if v]) == 1:
                    yield self.hit(f"sets storage parameters of index {name} (applied when it is next rebuilt)",
                                   action=i)
            return
        if not stmt.is_command:
            return
        words = stmt.words
        if words[2:5] == ("ALL", "IN", "TABLESPACE"):
            if "SET" in words and "TABLESPACE" in words[5:]:
                yield self._move("every index in a tablespace", what_is="copies them")
            return
        name, i = alter_target(words)
        if name is None:
            return
        action = words[i:]
        if len(action) == 3 and action[:2] == ("RENAME", "TO"):
            yield self.hit(f"renames index {name} to {action[2].lower()} (a constraint it backs is renamed too)")
        elif action[:1] in (("SET",), ("RESET",)) and action[1:2] == ("(",) and skip_parens(action, 1) == len(action):
            yield self.hit(f"{action[0].lower()}s storage parameters of index {name}")
        elif len(action) == 3 and action[:2] == ("SET", "TABLESPACE"):
            yield self._move(f"index {name}")
        elif action[:1] == ("ALTER",) and action[-3:-1] == ("SET", "STATISTICS") and len(action) in (5, 6):
            yield self.hit(f"sets the statistics target of an expression column of index {name}")
        elif len(action) == 3 and action[:2] == ("ATTACH", "PARTITION"):
            yield self.hit(f"attaches index {action[2].lower()} as a partition of index {name}")
        elif action[-4:-1] == ("DEPENDS", "ON", "EXTENSION") and action[:-4] in ((), ("NO",)):
            verb = "no longer depends" if action[0] == "NO" else "now depends (is dropped with it)"
            yield self.hit(f"index {name} {verb} on extension {action[-1].lower()}")

    def _move(self, what, action=-1, what_is="copies it"):
        return self.hit(f"moves {what} to another tablespace: {what_is} under ACCESS EXCLUSIVE, blocking all "
                        "queries on the table", action=action, severity=Severity.ERROR, lock=Lock.ACCESS_EXCLUSIVE,
                        rewrite=Rewrite.REWRITE, fix=self._move_fix)
