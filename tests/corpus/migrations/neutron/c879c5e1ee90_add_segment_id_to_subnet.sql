-- source: openstack/neutron/neutron/db/migration/alembic_migrations/versions/newton/contract/c879c5e1ee90_add_segment_id_to_subnet.py
-- label: contract
-- why: Neutron alembic branch 'contract' (newton/contract)
ALTER TABLE subnets ADD COLUMN segment_id VARCHAR(36);

ALTER TABLE subnets ADD FOREIGN KEY(segment_id) REFERENCES networksegments (id);
