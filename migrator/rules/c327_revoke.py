from sqlglot import exp

from migrator.phases import Phase, Severity
from migrator.rules._base import Rule


class Revoke(Rule):
    """Revoke privileges.

    ## What it does
    Finds `REVOKE` (privileges or role membership) and
    `ALTER DEFAULT PRIVILEGES ... REVOKE`: a restriction (contract, warning).

    ## Why is this bad?
    If blue's database role loses a privilege it still uses, its queries
    fail with "permission denied" the moment the revoke commits.

    ## Use instead
    Contract phase: revoke only after green no longer needs the privilege and
    blue is gone.
    """

    id, name, phase, severity = "C327", "revoke", Phase.CONTRACT, Severity.WARNING
    contract_precondition = "no running code may need the privilege"
    nodes = (exp.Revoke,)
    commands = (("REVOKE",), ("ALTER", "DEFAULT", "PRIVILEGES"))
    fix = "revoke in the contract phase, after blue is gone and green no longer needs the privilege"

    def check(self, stmt, ctx):
        if isinstance(stmt.node, exp.Revoke):
            yield self.hit("revokes privileges: blue's queries that need them fail")
        elif stmt.is_command:
            words = stmt.words
            if words[0] == "REVOKE":
                yield self.hit("revokes privileges or a role membership: blue's queries that need them fail")
            elif "REVOKE" in words and "GRANT" not in words:
                yield self.hit("revokes default privileges: objects created later are not accessible to the roles")
