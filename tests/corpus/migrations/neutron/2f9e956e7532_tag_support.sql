-- source: openstack/neutron/neutron/db/migration/alembic_migrations/versions/mitaka/expand/2f9e956e7532_tag_support.py
-- label: expand
-- why: Neutron alembic branch 'expand' (mitaka/expand)
CREATE TABLE tags (
    standard_attr_id BIGINT NOT NULL, 
    tag VARCHAR(60) NOT NULL, 
    PRIMARY KEY (standard_attr_id, tag), 
    FOREIGN KEY(standard_attr_id) REFERENCES standardattributes (id) ON DELETE CASCADE
);
