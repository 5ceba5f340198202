-- source: openstack/neutron/neutron/db/migration/alembic_migrations/versions/newton/contract/89ab9a816d70_rename_ml2_network_segments.py
-- label: contract
-- why: Neutron alembic branch 'contract' (newton/contract)
ALTER TABLE ml2_port_binding_levels DROP CONSTRAINT ml2_port_binding_levels_segment_id_fkey;

ALTER TABLE ml2_network_segments RENAME TO networksegments;

ALTER TABLE ml2_port_binding_levels ADD CONSTRAINT ml2_port_binding_levels_segment_id_fkey FOREIGN KEY(segment_id) REFERENCES networksegments (id) ON DELETE SET NULL;
