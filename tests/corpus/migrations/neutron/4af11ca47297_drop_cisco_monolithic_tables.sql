-- source: openstack/neutron/neutron/db/migration/alembic_migrations/versions/liberty/contract/4af11ca47297_drop_cisco_monolithic_tables.py
-- label: contract
-- why: Neutron alembic branch 'contract' (liberty/contract)
DROP TABLE cisco_n1kv_port_bindings;

DROP TABLE cisco_n1kv_network_bindings;

DROP TABLE cisco_n1kv_multi_segments;

DROP TABLE cisco_provider_networks;

DROP TABLE cisco_n1kv_trunk_segments;

DROP TABLE cisco_n1kv_vmnetworks;

DROP TABLE cisco_n1kv_profile_bindings;

DROP TABLE cisco_qos_policies;

DROP TABLE cisco_credentials;

DROP TABLE cisco_n1kv_vlan_allocations;

DROP TABLE cisco_n1kv_vxlan_allocations;

DROP TABLE cisco_network_profiles;

DROP TABLE cisco_policy_profiles;
