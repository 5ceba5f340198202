from migrator.phases import Lock, Phase, Severity
from migrator.rules._alter import AlterTableRule

_FORMS = {  # the words after ALTER CONSTRAINT name -> (phase, what changes for blue)
    ("DEFERRABLE",): (Phase.EXPAND, "may now be deferred (checked at each statement unless a transaction defers "
                      "it; a constraint that was INITIALLY DEFERRED becomes INITIALLY IMMEDIATE)"),
    ("DEFERRABLE", "INITIALLY", "DEFERRED"): (Phase.EXPAND, "is checked at COMMIT: blue's violating statements "
                                              "now fail at COMMIT, not where they ran"),
    ("INITIALLY", "DEFERRED"): (Phase.EXPAND, "is checked at COMMIT: blue's violating statements now fail at "
                                "COMMIT, not where they ran"),
    ("DEFERRABLE", "INITIALLY", "IMMEDIATE"): (Phase.CONTRACT, "is checked at each statement again: blue's "
                                               "transactions that relied on deferral fail"),
    ("INITIALLY", "IMMEDIATE"): (Phase.CONTRACT, "is checked at each statement again: blue's transactions that "
                                 "relied on deferral fail"),
    ("NOT", "DEFERRABLE"): (Phase.CONTRACT, "can no longer be deferred: blue's SET CONSTRAINTS ... DEFERRED and "
                            "transactions that relied on deferral fail"),
    ("NOT", "DEFERRABLE", "INITIALLY", "IMMEDIATE"): (Phase.CONTRACT, "can no longer be deferred: blue's SET "
                                                      "CONSTRAINTS ... DEFERRED and transactions that relied on "
                                                      "deferral fail"),
}


class AlterConstraintDeferrability(AlterTableRule):
    """Change when a constraint is checked.

    ## What it does
    Finds `ALTER TABLE ... ALTER CONSTRAINT c [NOT] DEFERRABLE [INITIALLY
    DEFERRED | IMMEDIATE]`, also as one action of a multi-action ALTER. No
    data is read or rewritten; the table is locked ACCESS EXCLUSIVE for a
    moment (measured on PostgreSQL 15). Making a constraint `DEFERRABLE` or
    `INITIALLY DEFERRED` is expand (a warning for the latter: errors move to
    COMMIT); `NOT DEFERRABLE` and `INITIALLY IMMEDIATE` are contract.

    ## Why is this bad?
    Blue's transactions may rely on the current timing: code that inserts a
    child row before its parent inside one transaction needs the foreign key
    deferred, and fails once it is checked at each statement. The other way
    round, a deferred check reports a violation at COMMIT, not at the
    statement blue's error handling wraps.

    ## Use instead
    Make constraints deferrable in expand; make them immediate or not
    deferrable only once blue is gone (contract), after checking that green
    never defers them.
    """

    id, name, phase, severity = "C330", "alter-constraint-deferrability", Phase.CONTRACT, Severity.WARNING
    lock = Lock.ACCESS_EXCLUSIVE
    fix = "tighten deferral in the contract phase, once no running code defers the constraint"

    def check_alter(self, alter, ctx):
        for action in alter.actions:
            words = action.words
            if words[:2] != ("ALTER", "CONSTRAINT") or len(words) < 4:
                continue
            form = _FORMS.get(words[3:])
            if form is None:
                continue
            phase, what = form
            severity = Severity.INFO if words[3:] == ("DEFERRABLE",) else Severity.WARNING
            yield self.hit(f"constraint {action.text(2)} of {alter.table} {what}", table=alter.table,
                           action=action.index, phase=phase, severity=severity,
                           fix="" if phase is Phase.EXPAND else self.fix)
