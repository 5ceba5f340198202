-- source: openstack/neutron/neutron/db/migration/alembic_migrations/versions/newton/expand/0e877ec3cba3_add_index_to_trunk_model_and_adjust_.py
-- label: expand
-- why: Neutron alembic branch 'expand' (newton/expand)
CREATE INDEX ix_subports_trunk_id ON subports (trunk_id);
