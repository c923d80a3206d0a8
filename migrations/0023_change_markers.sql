-- Change markers for the distribution loader (issue 22: one change costs work
-- proportional to the change, not to the number of deployed APIs).
--
-- Every row the loader reads carries `change_xid`: the id of the transaction that last
-- inserted or updated it, set by a BEFORE trigger (whatever the statement says). The
-- loader remembers the snapshot each state was read in (`pg_current_snapshot()`) and the
-- next load reads only rows whose writer that snapshot did not see:
--   change_xid >= pg_snapshot_xmin(prev) AND NOT pg_visible_in_snapshot(change_xid, prev)
-- Exact whatever the commit order: a transaction is either visible in the previous
-- snapshot (its rows were read then) or not (its rows are read now, or by the next load
-- once it commits). A sequence value ("marker > last max") is not: it is taken before
-- commit, so a later commit can carry a smaller marker. Deleted rows leave no marker:
-- the loader compares row counts (a table's rows now = rows then + new keys − deleted).
-- Nothing is written anywhere else, so no management call waits on another's lock.
-- (`src/distribution/state.rs` has the reasoning; the index serves the range above.)

CREATE FUNCTION apigw_mark_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.change_xid := pg_current_xact_id();
    RETURN NEW;
END
$$;

-- What nodes are sent: REST stages; usage plans and API keys; AWS_IAM access keys (and
-- their users' names); v2 stages and deployments; custom domains, their certificates and
-- mappings; client certificates. (Deployments are never updated: a stage's marker moves
-- whenever it points at another one.)
ALTER TABLE stages ADD COLUMN change_xid xid8 NOT NULL DEFAULT pg_current_xact_id();
ALTER TABLE api_keys ADD COLUMN change_xid xid8 NOT NULL DEFAULT pg_current_xact_id();
ALTER TABLE usage_plans ADD COLUMN change_xid xid8 NOT NULL DEFAULT pg_current_xact_id();
ALTER TABLE usage_plan_keys ADD COLUMN change_xid xid8 NOT NULL DEFAULT pg_current_xact_id();
ALTER TABLE access_keys ADD COLUMN change_xid xid8 NOT NULL DEFAULT pg_current_xact_id();
ALTER TABLE console_users ADD COLUMN change_xid xid8 NOT NULL DEFAULT pg_current_xact_id();
ALTER TABLE v2_items ADD COLUMN change_xid xid8 NOT NULL DEFAULT pg_current_xact_id();
ALTER TABLE domain_names ADD COLUMN change_xid xid8 NOT NULL DEFAULT pg_current_xact_id();
ALTER TABLE certificates ADD COLUMN change_xid xid8 NOT NULL DEFAULT pg_current_xact_id();
ALTER TABLE base_path_mappings ADD COLUMN change_xid xid8 NOT NULL DEFAULT pg_current_xact_id();
ALTER TABLE api_mappings ADD COLUMN change_xid xid8 NOT NULL DEFAULT pg_current_xact_id();
ALTER TABLE client_certificates ADD COLUMN change_xid xid8 NOT NULL DEFAULT pg_current_xact_id();

CREATE INDEX stages_change_xid ON stages (change_xid);
CREATE INDEX api_keys_change_xid ON api_keys (change_xid);
CREATE INDEX usage_plans_change_xid ON usage_plans (change_xid);
CREATE INDEX usage_plan_keys_change_xid ON usage_plan_keys (change_xid);
CREATE INDEX access_keys_change_xid ON access_keys (change_xid);
CREATE INDEX console_users_change_xid ON console_users (change_xid);
CREATE INDEX v2_items_change_xid ON v2_items (change_xid);
CREATE INDEX domain_names_change_xid ON domain_names (change_xid);
CREATE INDEX certificates_change_xid ON certificates (change_xid);
CREATE INDEX base_path_mappings_change_xid ON base_path_mappings (change_xid);
CREATE INDEX api_mappings_change_xid ON api_mappings (change_xid);
CREATE INDEX client_certificates_change_xid ON client_certificates (change_xid);

CREATE TRIGGER stages_change BEFORE INSERT OR UPDATE ON stages
    FOR EACH ROW EXECUTE FUNCTION apigw_mark_change();
CREATE TRIGGER api_keys_change BEFORE INSERT OR UPDATE ON api_keys
    FOR EACH ROW EXECUTE FUNCTION apigw_mark_change();
CREATE TRIGGER usage_plans_change BEFORE INSERT OR UPDATE ON usage_plans
    FOR EACH ROW EXECUTE FUNCTION apigw_mark_change();
CREATE TRIGGER usage_plan_keys_change BEFORE INSERT OR UPDATE ON usage_plan_keys
    FOR EACH ROW EXECUTE FUNCTION apigw_mark_change();
CREATE TRIGGER access_keys_change BEFORE INSERT OR UPDATE ON access_keys
    FOR EACH ROW EXECUTE FUNCTION apigw_mark_change();
CREATE TRIGGER console_users_change BEFORE INSERT OR UPDATE ON console_users
    FOR EACH ROW EXECUTE FUNCTION apigw_mark_change();
CREATE TRIGGER v2_items_change BEFORE INSERT OR UPDATE ON v2_items
    FOR EACH ROW EXECUTE FUNCTION apigw_mark_change();
CREATE TRIGGER domain_names_change BEFORE INSERT OR UPDATE ON domain_names
    FOR EACH ROW EXECUTE FUNCTION apigw_mark_change();
CREATE TRIGGER certificates_change BEFORE INSERT OR UPDATE ON certificates
    FOR EACH ROW EXECUTE FUNCTION apigw_mark_change();
CREATE TRIGGER base_path_mappings_change BEFORE INSERT OR UPDATE ON base_path_mappings
    FOR EACH ROW EXECUTE FUNCTION apigw_mark_change();
CREATE TRIGGER api_mappings_change BEFORE INSERT OR UPDATE ON api_mappings
    FOR EACH ROW EXECUTE FUNCTION apigw_mark_change();
CREATE TRIGGER client_certificates_change BEFORE INSERT OR UPDATE ON client_certificates
    FOR EACH ROW EXECUTE FUNCTION apigw_mark_change();
