-- source: openstack/neutron/neutron/db/migration/alembic_migrations/versions/newton/contract/5c85685d616d_remove_availability_ranges.py
-- label: contract
-- why: Neutron alembic branch 'contract' (newton/contract)
DROP TABLE ipavailabilityranges;

DROP TABLE ipamavailabilityranges;
