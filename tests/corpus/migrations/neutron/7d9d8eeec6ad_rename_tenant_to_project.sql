-- source: openstack/neutron/neutron/db/migration/alembic_migrations/versions/newton/contract/7d9d8eeec6ad_rename_tenant_to_project.py
-- label: contract
-- why: Neutron alembic branch 'contract' (newton/contract)
ALTER TABLE address_scopes RENAME tenant_id TO project_id;

DROP INDEX ix_address_scopes_tenant_id;

CREATE INDEX ix_address_scopes_project_id ON address_scopes (project_id);

ALTER TABLE floatingips RENAME tenant_id TO project_id;

DROP INDEX ix_floatingips_tenant_id;

CREATE INDEX ix_floatingips_project_id ON floatingips (project_id);

ALTER TABLE meteringlabels RENAME tenant_id TO project_id;

DROP INDEX ix_meteringlabels_tenant_id;

CREATE INDEX ix_meteringlabels_project_id ON meteringlabels (project_id);

ALTER TABLE networkrbacs RENAME tenant_id TO project_id;

DROP INDEX ix_networkrbacs_tenant_id;

CREATE INDEX ix_networkrbacs_project_id ON networkrbacs (project_id);

ALTER TABLE networks RENAME tenant_id TO project_id;

DROP INDEX ix_networks_tenant_id;

CREATE INDEX ix_networks_project_id ON networks (project_id);

ALTER TABLE ports RENAME tenant_id TO project_id;

DROP INDEX ix_ports_tenant_id;

CREATE INDEX ix_ports_project_id ON ports (project_id);

ALTER TABLE qos_policies RENAME tenant_id TO project_id;

DROP INDEX ix_qos_policies_tenant_id;

CREATE INDEX ix_qos_policies_project_id ON qos_policies (project_id);

ALTER TABLE qospolicyrbacs RENAME tenant_id TO project_id;

DROP INDEX ix_qospolicyrbacs_tenant_id;

CREATE INDEX ix_qospolicyrbacs_project_id ON qospolicyrbacs (project_id);

ALTER TABLE quotas RENAME tenant_id TO project_id;

DROP INDEX ix_quotas_tenant_id;

CREATE INDEX ix_quotas_project_id ON quotas (project_id);

ALTER TABLE reservations RENAME tenant_id TO project_id;

ALTER TABLE routers RENAME tenant_id TO project_id;

DROP INDEX ix_routers_tenant_id;

CREATE INDEX ix_routers_project_id ON routers (project_id);

ALTER TABLE securitygrouprules RENAME tenant_id TO project_id;

DROP INDEX ix_securitygrouprules_tenant_id;

CREATE INDEX ix_securitygrouprules_project_id ON securitygrouprules (project_id);

ALTER TABLE securitygroups RENAME tenant_id TO project_id;

DROP INDEX ix_securitygroups_tenant_id;

CREATE INDEX ix_securitygroups_project_id ON securitygroups (project_id);

ALTER TABLE subnetpools RENAME tenant_id TO project_id;

DROP INDEX ix_subnetpools_tenant_id;

CREATE INDEX ix_subnetpools_project_id ON subnetpools (project_id);

ALTER TABLE subnets RENAME tenant_id TO project_id;

DROP INDEX ix_subnets_tenant_id;

CREATE INDEX ix_subnets_project_id ON subnets (project_id);

ALTER TABLE trunks RENAME tenant_id TO project_id;

ALTER TABLE auto_allocated_topologies RENAME tenant_id TO project_id;

ALTER TABLE default_security_group RENAME tenant_id TO project_id;

ALTER TABLE ha_router_networks RENAME tenant_id TO project_id;

ALTER TABLE quotausages RENAME tenant_id TO project_id;

DROP INDEX ix_quotausages_tenant_id;

CREATE INDEX ix_quotausages_project_id ON quotausages (project_id);
