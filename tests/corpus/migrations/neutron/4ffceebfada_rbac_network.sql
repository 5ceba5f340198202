-- source: openstack/neutron/neutron/db/migration/alembic_migrations/versions/liberty/contract/4ffceebfada_rbac_network.py
-- label: contract
-- why: Neutron alembic branch 'contract' (liberty/contract)
INSERT INTO networkrbacs (id, object_id, tenant_id, target_tenant, action) SELECT md5(random()::text || id), id, tenant_id, '*', 'access_as_shared' FROM networks WHERE shared;

ALTER TABLE networks DROP COLUMN shared;

ALTER TABLE subnets DROP COLUMN shared;
