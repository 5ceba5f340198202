from migrator.phases import Lock, Phase, Severity
from migrator.rules._alter import alter_table, never_raise
from migrator.rules._base import Rule, table_key
from migrator.rules._objects import read_policy

_OWNER_NOTE = "unless it owns the table or has BYPASSRLS"


class RowLevelSecurity(Rule):
    """Row level security switched on or off, policies changed or dropped.

    ## What it does
    Reads `ALTER TABLE ... ENABLE / DISABLE / FORCE / NO FORCE ROW LEVEL
    SECURITY` (one action of a multi-action ALTER too), `ALTER POLICY` and
    `DROP POLICY`; it remembers the policies `CREATE POLICY` (E120) made
    earlier in the migration or in earlier migrations of the run.

    - `ENABLE` (or `FORCE`, which extends the policies to the table's owner)
      is **contract**: an error when no policy on the table is known, a
      warning when the known policies may not admit every row. It is expand
      when a known permissive policy admits every row to every role (`TO
      public`, `USING (true)`).
    - `DISABLE` / `NO FORCE` is expand (a warning: policies stop filtering).
    - `ALTER POLICY ... RENAME TO` is phase none; other `ALTER POLICY` forms
      and `DROP POLICY` are contract (warnings). Dropping a policy known to be
      restrictive is expand.

    Each takes ACCESS EXCLUSIVE on the table for a moment.

    ## Why is this bad?
    With row level security on, a role sees and writes only the rows some
    permissive policy admits (and every restrictive one allows). A table with
    no policy admits nothing: from the moment `ENABLE` commits, blue's role
    (unless it owns the table or has BYPASSRLS) reads no rows and its
    inserts and updates fail. Dropping or narrowing a permissive policy hides
    the rows only it admitted.

    ## Use instead
    Create permissive policies that admit blue's role first (expand), check
    blue on the result with `migrator compat`, then enable row level
    security. Drop or narrow policies in the contract phase, after blue is
    gone.
    """

    id, name, phase, severity = "C331", "row-level-security", Phase.CONTRACT, Severity.WARNING
    lock = Lock.ACCESS_EXCLUSIVE
    commands = (("ALTER", "TABLE"), ("ALTER", "POLICY"), ("DROP", "POLICY"))
    fix = ("create permissive policies that admit blue's role first, prove blue on them with migrator compat, "
           "then enable row level security")

    def check(self, stmt, ctx):
        words = stmt.words
        if words[1:2] == ("POLICY",):
            return never_raise(self, self._policy(words, ctx))
        alter = alter_table(stmt)
        return never_raise(self, self._alter(alter, ctx)) if alter is not None else ()

    def _alter(self, alter, ctx):
        for action in alter.actions:
            words = action.words
            if words[-3:] != ("ROW", "LEVEL", "SECURITY") or len(words) not in (4, 5):
                continue
            verb = " ".join(words[:-3])
            table = alter.table
            if verb in ("DISABLE", "NO FORCE"):
                who = "every role with privileges" if verb == "DISABLE" else "the table's owner"
                yield self.hit(f"{verb} ROW LEVEL SECURITY on {table}: policies stop filtering rows for {who}",
                               table=table, action=action.index, phase=Phase.EXPAND,
                               fix="make sure no role relies on the policies to hide rows from it")
                continue
            if verb not in ("ENABLE", "FORCE"):
                continue
            who = "blue's role" + (", even as the table's owner," if verb == "FORCE" else f" ({_OWNER_NOTE})")
            known = ctx.policies.get(table_key(table), {})
            permissive = sorted(n for n, kind in known.items() if kind != "restrictive")
            if "all" in known.values() and "restrictive" not in known.values():
                yield self.hit(f"{verb} ROW LEVEL SECURITY on {table}: policy {_first_open(known)} admits every "
                               "row to every role", table=table, action=action.index, phase=Phase.EXPAND,
                               severity=Severity.INFO, fix="")
            elif permissive:
                which = f"policy {permissive[0]} admits" if len(permissive) == 1 else \
                    f"policies {', '.join(permissive)} admit"
                yield self.hit(f"{verb} ROW LEVEL SECURITY on {table}: {who} sees and writes only the rows {which}; "
                               "every other row disappears for it", table=table, action=action.index)
            else:
                yield self.hit(f"{verb} ROW LEVEL SECURITY on {table} and no permissive policy on {table} is "
                               f"known: {who} sees no rows and its writes fail", table=table, action=action.index,
                               severity=Severity.ERROR)

    def _policy(self, words, ctx):
        info = read_policy(words)
        if info is None:
            return
        table, name = info.table, info.name
        if words[0] == "DROP":
            kind = ctx.policies.get(table_key(table), {}).get(name)
            if kind == "restrictive":
                yield self.hit(f"drops restrictive policy {name} on {table}: rows it refused become visible and "
                               "writable", table=table, phase=Phase.EXPAND,
                               fix="make sure no role relies on the policy to hide rows from it")
            else:
                yield self.hit(f"drops policy {name} on {table}: with row level security on, the rows only it "
                               "admitted disappear for blue's role and its writes to them fail", table=table,
                               fix="drop the policy in the contract phase, after blue is gone")
        elif info.rename:
            yield self.hit(f"renames policy {name} on {table} to {info.rename}: catalog only", table=table,
                           phase=Phase.NONE, severity=Severity.INFO, fix="")
        elif info.admits_all and info.roles is not None:
            yield self.hit(f"policy {name} on {table} now admits every row to every role", table=table,
                           phase=Phase.EXPAND, severity=Severity.INFO, fix="")
        else:
            yield self.hit(f"changes policy {name} on {table}: rows or roles it admitted before may be refused "
                           "to blue now", table=table,
                           fix="add a new permissive policy instead (expand); narrow the old one after blue is gone")


def _first_open(known: dict[str, str]) -> str:
    return next(name for name, kind in sorted(known.items()) if kind == "all")
