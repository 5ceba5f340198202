-- source: openstack/neutron/neutron/db/migration/alembic_migrations/versions/liberty/expand/1c844d1677f7_dns_nameservers_order.py
-- label: expand
-- why: Neutron alembic branch 'expand' (liberty/expand)
ALTER TABLE dnsnameservers ADD COLUMN "order" INTEGER DEFAULT '0' NOT NULL;
