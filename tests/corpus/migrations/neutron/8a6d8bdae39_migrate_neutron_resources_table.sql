-- source: openstack/neutron/neutron/db/migration/alembic_migrations/versions/mitaka/contract/8a6d8bdae39_migrate_neutron_resources_table.py
-- label: contract
-- why: Neutron alembic branch 'contract' (mitaka/contract)
INSERT INTO standardattributes (resource_type) VALUES ('ports') RETURNING standardattributes.id;

UPDATE ports SET standard_attr_id=1 WHERE ports.id = '0b9e6c1c-6c8e-4d35-9d1f-2a4e0c7f1a11';

INSERT INTO standardattributes (resource_type) VALUES ('networks') RETURNING standardattributes.id;

UPDATE networks SET standard_attr_id=1 WHERE networks.id = '0b9e6c1c-6c8e-4d35-9d1f-2a4e0c7f1a11';

INSERT INTO standardattributes (resource_type) VALUES ('subnets') RETURNING standardattributes.id;

UPDATE subnets SET standard_attr_id=1 WHERE subnets.id = '0b9e6c1c-6c8e-4d35-9d1f-2a4e0c7f1a11';

INSERT INTO standardattributes (resource_type) VALUES ('subnetpools') RETURNING standardattributes.id;

UPDATE subnetpools SET standard_attr_id=1 WHERE subnetpools.id = '0b9e6c1c-6c8e-4d35-9d1f-2a4e0c7f1a11';

INSERT INTO standardattributes (resource_type) VALUES ('securitygroups') RETURNING standardattributes.id;

UPDATE securitygroups SET standard_attr_id=1 WHERE securitygroups.id = '0b9e6c1c-6c8e-4d35-9d1f-2a4e0c7f1a11';

INSERT INTO standardattributes (resource_type) VALUES ('floatingips') RETURNING standardattributes.id;

UPDATE floatingips SET standard_attr_id=1 WHERE floatingips.id = '0b9e6c1c-6c8e-4d35-9d1f-2a4e0c7f1a11';

INSERT INTO standardattributes (resource_type) VALUES ('routers') RETURNING standardattributes.id;

UPDATE routers SET standard_attr_id=1 WHERE routers.id = '0b9e6c1c-6c8e-4d35-9d1f-2a4e0c7f1a11';

INSERT INTO standardattributes (resource_type) VALUES ('securitygrouprules') RETURNING standardattributes.id;

UPDATE securitygrouprules SET standard_attr_id=1 WHERE securitygrouprules.id = '0b9e6c1c-6c8e-4d35-9d1f-2a4e0c7f1a11';

ALTER TABLE ports ALTER COLUMN standard_attr_id SET NOT NULL;

ALTER TABLE ports ADD FOREIGN KEY(standard_attr_id) REFERENCES standardattributes (id) ON DELETE CASCADE;

ALTER TABLE ports ADD CONSTRAINT uniq_ports0standard_attr_id UNIQUE (standard_attr_id);

ALTER TABLE networks ALTER COLUMN standard_attr_id SET NOT NULL;

ALTER TABLE networks ADD FOREIGN KEY(standard_attr_id) REFERENCES standardattributes (id) ON DELETE CASCADE;

ALTER TABLE networks ADD CONSTRAINT uniq_networks0standard_attr_id UNIQUE (standard_attr_id);

ALTER TABLE subnets ALTER COLUMN standard_attr_id SET NOT NULL;

ALTER TABLE subnets ADD FOREIGN KEY(standard_attr_id) REFERENCES standardattributes (id) ON DELETE CASCADE;

ALTER TABLE subnets ADD CONSTRAINT uniq_subnets0standard_attr_id UNIQUE (standard_attr_id);

ALTER TABLE subnetpools ALTER COLUMN standard_attr_id SET NOT NULL;

ALTER TABLE subnetpools ADD FOREIGN KEY(standard_attr_id) REFERENCES standardattributes (id) ON DELETE CASCADE;

ALTER TABLE subnetpools ADD CONSTRAINT uniq_subnetpools0standard_attr_id UNIQUE (standard_attr_id);

ALTER TABLE securitygroups ALTER COLUMN standard_attr_id SET NOT NULL;

ALTER TABLE securitygroups ADD FOREIGN KEY(standard_attr_id) REFERENCES standardattributes (id) ON DELETE CASCADE;

ALTER TABLE securitygroups ADD CONSTRAINT uniq_securitygroups0standard_attr_id UNIQUE (standard_attr_id);

ALTER TABLE floatingips ALTER COLUMN standard_attr_id SET NOT NULL;

ALTER TABLE floatingips ADD FOREIGN KEY(standard_attr_id) REFERENCES standardattributes (id) ON DELETE CASCADE;

ALTER TABLE floatingips ADD CONSTRAINT uniq_floatingips0standard_attr_id UNIQUE (standard_attr_id);

ALTER TABLE routers ALTER COLUMN standard_attr_id SET NOT NULL;

ALTER TABLE routers ADD FOREIGN KEY(standard_attr_id) REFERENCES standardattributes (id) ON DELETE CASCADE;

ALTER TABLE routers ADD CONSTRAINT uniq_routers0standard_attr_id UNIQUE (standard_attr_id);

ALTER TABLE securitygrouprules ALTER COLUMN standard_attr_id SET NOT NULL;

ALTER TABLE securitygrouprules ADD FOREIGN KEY(standard_attr_id) REFERENCES standardattributes (id) ON DELETE CASCADE;

ALTER TABLE securitygrouprules ADD CONSTRAINT uniq_securitygrouprules0standard_attr_id UNIQUE (standard_attr_id);
