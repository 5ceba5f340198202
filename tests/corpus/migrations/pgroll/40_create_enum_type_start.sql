-- source: xataio/pgroll/examples/40_create_enum_type.json
-- label: expand
-- why: pgroll start (expand): DDL pgroll runs before the new version is served, old version still live; raw sql up: CREATE TYPE ... AS ENUM
CREATE TYPE fruit_size AS ENUM ('small', 'medium', 'large');
