-- source: openstack/keystone/keystone/common/sql/migrations/versions/2024.01/expand/47147121_add_identity_federation_attribute_mapping_schema_version.py
-- label: expand
-- why: Keystone alembic branch 'expand' (2024.01/expand); keystone-manage db_sync --expand
ALTER TABLE mapping ADD COLUMN schema_version VARCHAR(5) DEFAULT '1.0' NOT NULL;
