-- source: openstack/neutron/neutron/db/migration/alembic_migrations/versions/liberty/contract/5498d17be016_drop_legacy_ovs_and_lb.py
-- label: contract
-- why: Neutron alembic branch 'contract' (liberty/contract)
DROP TABLE ovs_network_bindings;

DROP TABLE ovs_vlan_allocations;

DROP TABLE network_bindings;

DROP TABLE ovs_tunnel_allocations;

DROP TABLE network_states;

DROP TABLE ovs_tunnel_endpoints;
