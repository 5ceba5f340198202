"""Release phases against the target database: ledger, coordinator lock, state machine, gates, commands."""
