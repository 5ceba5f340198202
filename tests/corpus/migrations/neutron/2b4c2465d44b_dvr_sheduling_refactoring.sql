-- source: openstack/neutron/neutron/db/migration/alembic_migrations/versions/mitaka/contract/2b4c2465d44b_dvr_sheduling_refactoring.py
-- label: contract
-- why: Neutron alembic branch 'contract' (mitaka/contract)
DELETE FROM routerl3agentbindings WHERE routerl3agentbindings.router_id IN (SELECT router_id FROM router_extra_attributes WHERE distributed);

INSERT INTO routerl3agentbindings (router_id, l3_agent_id) SELECT router_id, l3_agent_id FROM csnat_l3_agent_bindings;

DROP TABLE csnat_l3_agent_bindings;
