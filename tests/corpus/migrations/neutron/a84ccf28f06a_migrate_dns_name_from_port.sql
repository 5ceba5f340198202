-- source: openstack/neutron/neutron/db/migration/alembic_migrations/versions/newton/contract/a84ccf28f06a_migrate_dns_name_from_port.py
-- label: contract
-- why: Neutron alembic branch 'contract' (newton/contract)
UPDATE portdnses SET dns_name='vm1' WHERE portdnses.port_id = '3a1f2b4c-5d6e-4f70-8192-a3b4c5d6e7f8';

INSERT INTO portdnses (port_id, dns_name, current_dns_name, current_dns_domain, previous_dns_name, previous_dns_domain) VALUES ('3a1f2b4c-5d6e-4f70-8192-a3b4c5d6e7f8', 'vm1', '', '', '', '');

ALTER TABLE ports DROP COLUMN dns_name;
