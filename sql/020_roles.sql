-- Roles: group roles (NOLOGIN) that people's and services' logins are granted.
--   kcbx_loader       writes raw, audit load records and the key map
--   kcbx_transformer  reads raw/audit/pii, builds staging, intermediate, marts, pii
--   kcbx_bi           reads marts only (Metabase/Superset): the bureau, every township
--   kcbx_township     township accounts: the case ledger and indicators marts, only
--                     their own township's rows (row-level security, sql/040)
--   kcbx_auditor      reads marts and audit, never raw or pii
--   kcbx_admin        everything, including pii
-- Creating roles needs CREATEROLE: on a managed warehouse where the pipeline's user
-- lacks it, a DBA runs this file once and the pipeline skips it with a notice.
do $$
declare
    role_name text;
begin
    foreach role_name in array array['kcbx_loader', 'kcbx_transformer', 'kcbx_bi', 'kcbx_township', 'kcbx_auditor', 'kcbx_admin'] loop
        if not exists (select 1 from pg_roles where rolname = role_name) then
            execute format('create role %I nologin', role_name);
        end if;
    end loop;
exception when insufficient_privilege then
    raise notice 'kcbx roles not created: the current user lacks CREATEROLE';
end
$$;

do $$
begin
    -- Nobody but the owner and granted roles sees anything by default.
    revoke all on schema raw, staging, intermediate, marts, audit, pii from public;

    grant usage on schema raw, audit, pii to kcbx_loader;
    grant select, insert, update on all tables in schema raw, audit to kcbx_loader;
    grant select, insert on pii.child_keys, pii.key_fingerprint to kcbx_loader;

    grant usage, create on schema staging, intermediate, marts, pii, audit to kcbx_transformer;
    grant usage on schema raw to kcbx_transformer;
    grant select on all tables in schema raw, audit, pii to kcbx_transformer;

    grant usage on schema marts to kcbx_bi, kcbx_auditor;
    grant usage on schema audit to kcbx_auditor;
    grant select on all tables in schema marts to kcbx_bi, kcbx_auditor;
    grant select on all tables in schema audit to kcbx_auditor;

    -- Rejected rows are kept as delivered, names and identity numbers included: auditors
    -- see why a row was rejected, not the row.
    revoke select on audit.rejected_rows from kcbx_auditor;
    grant select (load_id, source_row, reason, reason_label, column_name) on audit.rejected_rows to kcbx_auditor;

    -- Tables dbt creates later (marts, stored test failures in audit) get the same grants.
    alter default privileges in schema marts grant select on tables to kcbx_bi, kcbx_auditor, kcbx_admin;
    alter default privileges in schema audit grant select on tables to kcbx_auditor, kcbx_admin;

    grant usage on schema raw, staging, intermediate, marts, audit, pii to kcbx_admin;
    grant select on all tables in schema raw, staging, intermediate, marts, audit, pii to kcbx_admin;
exception when undefined_object or insufficient_privilege then
    raise notice 'kcbx grants not applied: roles missing or not permitted';
end
$$;
