-- The ledger as migrator wrote it at LEDGER_VERSION = 1 (commit 4cdbe01), with {schema} for the schema; then
-- INSERT INTO {schema}.ledger_meta (version) VALUES (1). tests/test_release_ledger.py upgrades it.
CREATE SCHEMA IF NOT EXISTS {schema};
CREATE TABLE IF NOT EXISTS {schema}.ledger_meta (version integer NOT NULL);
CREATE TABLE IF NOT EXISTS {schema}.releases (
    id text PRIMARY KEY,
    blue_ref text, blue_sha text, green_ref text, green_sha text,
    revisions jsonb NOT NULL DEFAULT '{}',
    state text NOT NULL CHECK (state IN ('planned', 'expanded', 'migrated', 'switched', 'rolled_back', 'contracted')),
    active_color text NOT NULL DEFAULT 'blue' CHECK (active_color IN ('blue', 'green')),
    evidence jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    switched_at timestamptz, rolled_back_at timestamptz, contracted_at timestamptz
);
CREATE UNIQUE INDEX IF NOT EXISTS releases_one_in_flight ON {schema}.releases ((true)) WHERE state <> 'contracted';
CREATE TABLE IF NOT EXISTS {schema}.events (
    id bigserial PRIMARY KEY,
    release_id text NOT NULL REFERENCES {schema}.releases (id),
    at timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor text NOT NULL,
    command text NOT NULL,
    result text NOT NULL,
    detail jsonb NOT NULL DEFAULT '{}',
    evidence jsonb,
    forced boolean NOT NULL DEFAULT false,
    reason text,
    CHECK (NOT forced OR reason IS NOT NULL)
);
CREATE OR REPLACE FUNCTION {schema}.events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'migrator events are append-only';
END
$$;
DROP TRIGGER IF EXISTS events_append_only ON {schema}.events;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON {schema}.events
    FOR EACH ROW EXECUTE FUNCTION {schema}.events_append_only();
CREATE TABLE IF NOT EXISTS {schema}.applied (
    release_id text NOT NULL REFERENCES {schema}.releases (id),
    revision text NOT NULL,
    phase text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (release_id, revision)
);
CREATE TABLE IF NOT EXISTS {schema}.checkpoints (
    name text PRIMARY KEY,
    release_id text,
    last_key text,
    rows_done bigint NOT NULL DEFAULT 0,
    finished boolean NOT NULL DEFAULT false,
    updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
