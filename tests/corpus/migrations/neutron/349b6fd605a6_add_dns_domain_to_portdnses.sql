-- source: openstack/neutron/neutron/db/migration/alembic_migrations/versions/pike/expand/349b6fd605a6_add_dns_domain_to_portdnses.py
-- label: expand
-- why: Neutron alembic branch 'expand' (pike/expand)
ALTER TABLE portdnses ADD COLUMN dns_domain VARCHAR(255) DEFAULT '' NOT NULL;
