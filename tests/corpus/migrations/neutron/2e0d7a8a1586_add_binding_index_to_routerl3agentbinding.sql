-- source: openstack/neutron/neutron/db/migration/alembic_migrations/versions/newton/contract/2e0d7a8a1586_add_binding_index_to_routerl3agentbinding.py
-- label: contract
-- why: Neutron alembic branch 'contract' (newton/contract)
ALTER TABLE routerl3agentbindings ADD COLUMN binding_index INTEGER DEFAULT '1' NOT NULL;

UPDATE routerl3agentbindings SET binding_index=2 WHERE routerl3agentbindings.router_id = 'b5b8a6f5-7a1e-4a8e-9c3f-2f0a0c9b7d21' AND routerl3agentbindings.l3_agent_id = '4c1f0b1e-2d3a-4e5f-8a9b-0c1d2e3f4a5b';

ALTER TABLE routerl3agentbindings ADD CONSTRAINT uniq_router_l3_agent_binding0router_id0binding_index0 UNIQUE (router_id, binding_index);
