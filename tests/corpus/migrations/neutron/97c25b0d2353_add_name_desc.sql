-- source: openstack/neutron/neutron/db/migration/alembic_migrations/versions/newton/contract/97c25b0d2353_add_name_desc.py
-- label: contract
-- why: Neutron alembic branch 'contract' (newton/contract)
ALTER TABLE networksegments ADD COLUMN standard_attr_id BIGINT;

ALTER TABLE networksegments ADD COLUMN name VARCHAR(255);

INSERT INTO standardattributes (resource_type) VALUES ('networksegments') RETURNING standardattributes.id;

UPDATE networksegments SET standard_attr_id=1 WHERE networksegments.id = '7f3c2a1b-0d9e-4f8a-b6c5-1e2d3c4b5a69';

ALTER TABLE networksegments ALTER COLUMN standard_attr_id SET NOT NULL;

ALTER TABLE networksegments ADD FOREIGN KEY(standard_attr_id) REFERENCES standardattributes (id) ON DELETE CASCADE;

ALTER TABLE networksegments ADD CONSTRAINT uniq_networksegments0standard_attr_id UNIQUE (standard_attr_id);
