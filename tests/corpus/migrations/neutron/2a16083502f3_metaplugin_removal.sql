-- source: openstack/neutron/neutron/db/migration/alembic_migrations/versions/liberty/contract/2a16083502f3_metaplugin_removal.py
-- label: contract
-- why: Neutron alembic branch 'contract' (liberty/contract)
DROP TABLE networkflavors;

DROP TABLE routerflavors;
