-- source: openstack/neutron/neutron/db/migration/alembic_migrations/versions/newton/contract/4bcd4df1f426_rename_ml2_dvr_port_bindings.py
-- label: contract
-- why: Neutron alembic branch 'contract' (newton/contract)
ALTER TABLE ml2_dvr_port_bindings RENAME TO ml2_distributed_port_bindings;
