-- source: openstack/neutron/neutron/db/migration/alembic_migrations/versions/newton/contract/b67e765a3524_remove_mtu_column_from_networks.py
-- label: contract
-- why: Neutron alembic branch 'contract' (newton/contract)
ALTER TABLE networks DROP COLUMN mtu;
