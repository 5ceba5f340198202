"""A revision with a syntax error."""
revision = "b001"
down_revision = None

def upgrade(:
    pass
