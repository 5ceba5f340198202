-- source: openstack/neutron/neutron/db/migration/alembic_migrations/versions/liberty/expand/52c5312f6baf_address_scopes.py
-- label: expand
-- why: Neutron alembic branch 'expand' (liberty/expand)
CREATE TABLE address_scopes (
    id VARCHAR(36) NOT NULL, 
    name VARCHAR(255) NOT NULL, 
    tenant_id VARCHAR(255), 
    shared BOOLEAN NOT NULL, 
    PRIMARY KEY (id)
);

CREATE INDEX ix_address_scopes_tenant_id ON address_scopes (tenant_id);
