-- source: openstack/neutron/neutron/db/migration/alembic_migrations/versions/mitaka/contract/4ffceebfcdc_standard_desc.py
-- label: contract
-- why: Neutron alembic branch 'contract' (mitaka/contract)
UPDATE standardattributes SET description = securitygroups.description FROM securitygroups WHERE standardattributes.id = securitygroups.standard_attr_id;

ALTER TABLE securitygroups DROP COLUMN description;
