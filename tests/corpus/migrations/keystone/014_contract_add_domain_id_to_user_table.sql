-- source: openstack/keystone/keystone/common/sql/contract_repo/versions/014_contract_add_domain_id_to_user_table.py
-- label: contract
-- why: Keystone contract_repo (keystone-manage db_sync --contract runs this repo in the contract step)
ALTER TABLE local_user DROP CONSTRAINT local_user_user_id_fkey;

ALTER TABLE nonlocal_user DROP CONSTRAINT nonlocal_user_user_id_fkey;

ALTER TABLE "user" ADD CONSTRAINT ixu_user_id_domain_id UNIQUE (id, domain_id);

ALTER TABLE local_user ADD FOREIGN KEY(user_id, domain_id) REFERENCES "user" (id, domain_id) ON DELETE CASCADE ON UPDATE CASCADE;

ALTER TABLE nonlocal_user ADD FOREIGN KEY(user_id, domain_id) REFERENCES "user" (id, domain_id) ON DELETE CASCADE ON UPDATE CASCADE;

DROP TRIGGER local_user_after_insert_trigger on local_user;

DROP TRIGGER local_user_after_update_trigger on local_user;

DROP TRIGGER nonlocal_user_after_insert_trigger on nonlocal_user;

DROP TRIGGER nonlocal_user_after_update_trigger on nonlocal_user;
