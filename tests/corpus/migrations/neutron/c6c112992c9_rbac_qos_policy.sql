-- source: openstack/neutron/neutron/db/migration/alembic_migrations/versions/mitaka/contract/c6c112992c9_rbac_qos_policy.py
-- label: contract
-- why: Neutron alembic branch 'contract' (mitaka/contract)
INSERT INTO qospolicyrbacs (id, object_id, tenant_id, target_tenant, action) SELECT md5(random()::text || id), id, tenant_id, '*', 'access_as_shared' FROM qos_policies WHERE shared;

ALTER TABLE qos_policies DROP COLUMN shared;
