-- source: openstack/neutron/neutron/db/migration/alembic_migrations/versions/liberty/expand/45f955889773_quota_usage.py
-- label: expand
-- why: Neutron alembic branch 'expand' (liberty/expand)
CREATE TABLE quotausages (
    tenant_id VARCHAR(255) NOT NULL, 
    resource VARCHAR(255) NOT NULL, 
    dirty BOOLEAN DEFAULT false NOT NULL, 
    in_use INTEGER DEFAULT '0' NOT NULL, 
    reserved INTEGER DEFAULT '0' NOT NULL, 
    PRIMARY KEY (tenant_id, resource)
);

CREATE INDEX ix_quotausages_tenant_id ON quotausages (tenant_id);
