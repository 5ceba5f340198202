-- source: openstack/neutron/neutron/db/migration/alembic_migrations/versions/liberty/contract/2e5352a0ad4d_add_missing_foreign_keys.py
-- label: contract
-- why: Neutron alembic branch 'contract' (liberty/contract)
ALTER TABLE flavorserviceprofilebindings DROP CONSTRAINT flavorserviceprofilebindings_service_profile_id_fkey;

ALTER TABLE flavorserviceprofilebindings DROP CONSTRAINT flavorserviceprofilebindings_flavor_id_fkey;

ALTER TABLE flavorserviceprofilebindings ADD CONSTRAINT flavorserviceprofilebindings_service_profile_id_fkey FOREIGN KEY(service_profile_id) REFERENCES serviceprofiles (id) ON DELETE CASCADE;

ALTER TABLE flavorserviceprofilebindings ADD CONSTRAINT flavorserviceprofilebindings_flavor_id_fkey FOREIGN KEY(flavor_id) REFERENCES flavors (id) ON DELETE CASCADE;
