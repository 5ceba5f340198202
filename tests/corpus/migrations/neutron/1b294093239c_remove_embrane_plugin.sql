-- source: openstack/neutron/neutron/db/migration/alembic_migrations/versions/mitaka/contract/1b294093239c_remove_embrane_plugin.py
-- label: contract
-- why: Neutron alembic branch 'contract' (mitaka/contract)
DROP TABLE embrane_pool_port;
