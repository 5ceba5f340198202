-- source: openstack/neutron/neutron/db/migration/alembic_migrations/versions/mitaka/expand/b4caf27aae4_add_bgp_dragent_model_data.py
-- label: expand
-- why: Neutron alembic branch 'expand' (mitaka/expand)
CREATE TABLE bgp_speaker_dragent_bindings (
    agent_id VARCHAR(36) NOT NULL, 
    bgp_speaker_id VARCHAR(36) NOT NULL, 
    PRIMARY KEY (agent_id), 
    FOREIGN KEY(agent_id) REFERENCES agents (id) ON DELETE CASCADE, 
    FOREIGN KEY(bgp_speaker_id) REFERENCES bgp_speakers (id) ON DELETE CASCADE
);
