-- source: openstack/neutron/neutron/db/migration/alembic_migrations/versions/liberty/expand/9859ac9c136_quota_reservations.py
-- label: expand
-- why: Neutron alembic branch 'expand' (liberty/expand)
CREATE TABLE reservations (
    id VARCHAR(36) NOT NULL, 
    tenant_id VARCHAR(255), 
    expiration TIMESTAMP WITHOUT TIME ZONE, 
    PRIMARY KEY (id)
);

CREATE TABLE resourcedeltas (
    resource VARCHAR(255) NOT NULL, 
    reservation_id VARCHAR(36) NOT NULL, 
    amount INTEGER, 
    PRIMARY KEY (resource, reservation_id), 
    FOREIGN KEY(reservation_id) REFERENCES reservations (id) ON DELETE CASCADE
);
