"""Rules: one module per rule, each with its id, phase, lock, docs (the class docstring)."""
