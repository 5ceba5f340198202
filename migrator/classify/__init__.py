"""The classifier: SQL in, phases, locks, findings out (engine, facts, rules in migrator.rules)."""
