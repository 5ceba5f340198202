-- source: openstack/neutron/neutron/db/migration/alembic_migrations/versions/mitaka/contract/e3278ee65050_drop_nec_plugin_tables.py
-- label: contract
-- why: Neutron alembic branch 'contract' (mitaka/contract)
DROP TABLE ofcnetworkmappings;

DROP TABLE ofcportmappings;

DROP TABLE ofcroutermappings;

DROP TABLE ofcfiltermappings;

DROP TABLE ofctenantmappings;

DROP TABLE portinfos;

DROP TABLE routerproviders;

DROP TABLE packetfilters;
