-- Roles and privileges, per table, the same after every run (tests/integration/
-- test_privileges.py compares them with a declared matrix).
--
-- Service logins, one per pipeline stage, none a superuser:
--   kcbx_loader       ingest: owns raw.*; writes the load audit and the key map
--   kcbx_transformer  dbt and Great Expectations: owns staging/intermediate/marts/pii
--                     models and stored test failures; reads raw, the load audit, keys
--   kcbx_reporter     term report and ledgers: what an auditor reads, plus the names
--                     the ledgers print (pii.child_identity, pii.responsible_persons)
--   kcbx_publisher    the region hub's read of the county's publish schema (sql/060)
--   kcbx_region_inbox the region's hand-over of the county's matches (sql/070)
-- Group roles (NOLOGIN) that people's logins are granted:
--   kcbx_bi           the bureau's BI account: marts built for BI (not marts.dim_child)
--   kcbx_township     township accounts: the same marts, only their own township's rows
--                     (row-level security, sql/040)
--   kcbx_auditor      reads marts and audit, never raw or pii; rejected rows without
--                     the row as delivered
--   kcbx_admin        everything, including pii
-- This file needs a superuser or a role with CREATEROLE that owns the schemas: it is the
-- one-time set-up (`kcbx db setup`, also run by `kcbx run` when it is missing or older
-- than the code). Nothing else in KCBX connects with such a login.
do $$
declare
    role_name text;
begin
    foreach role_name in array array[
        'kcbx_loader', 'kcbx_transformer', 'kcbx_reporter', 'kcbx_publisher', 'kcbx_region_inbox'
    ] loop
        if not exists (select 1 from pg_roles where rolname = role_name) then
            execute format('create role %I login nosuperuser nocreatedb nocreaterole noreplication', role_name);
        else
            execute format('alter role %I login nosuperuser nocreatedb nocreaterole noreplication', role_name);
        end if;
    end loop;
    foreach role_name in array array['kcbx_bi', 'kcbx_township', 'kcbx_auditor', 'kcbx_admin'] loop
        if not exists (select 1 from pg_roles where rolname = role_name) then
            execute format('create role %I nologin', role_name);
        end if;
    end loop;
end
$$;

-- Objects an earlier release created as the set-up login move to the stage that builds
-- them, so that no stage needs a superuser.
do $$
declare
    item record;
begin
    for item in
        select n.nspname, c.relname, c.relkind,
               case when n.nspname = 'raw' then 'kcbx_loader' else 'kcbx_transformer' end as new_owner
        from pg_class c
        join pg_namespace n on n.oid = c.relnamespace
        where n.nspname in ('raw', 'staging', 'intermediate', 'marts')
            and c.relkind in ('r', 'p', 'v', 'm')
            and not c.relispartition
            and pg_get_userbyid(c.relowner) not in ('kcbx_loader', 'kcbx_transformer')
    loop
        execute format(
            'alter %s %I.%I owner to %I',
            case item.relkind when 'v' then 'view' when 'm' then 'materialized view' else 'table' end,
            item.nspname, item.relname, item.new_owner
        );
    end loop;
end
$$;

-- Nobody but the owner and granted roles sees anything by default.
revoke all on schema raw, staging, intermediate, marts, audit, pii from public;
revoke create on schema public from public;
-- The set-up's own tables get exactly the grants below, however an earlier release left them.
revoke all on audit.load_files, audit.rejected_rows, audit.formula_cells, audit.control_char_cells, audit.gx_results,
    audit.setup_version
    from kcbx_loader, kcbx_transformer, kcbx_reporter, kcbx_bi, kcbx_township, kcbx_auditor, kcbx_admin;

-- kcbx_loader
grant usage, create on schema raw to kcbx_loader;
grant usage on schema audit, pii to kcbx_loader;
grant select, insert, update on audit.load_files to kcbx_loader;
grant select, insert on audit.rejected_rows, audit.formula_cells, audit.control_char_cells to kcbx_loader;
-- The key map is the loader's own (it analyses it after each load); others read it.
alter table pii.child_keys owner to kcbx_loader;
alter table pii.key_fingerprint owner to kcbx_loader;
grant select on audit.setup_version to kcbx_loader, kcbx_transformer, kcbx_reporter;

-- kcbx_transformer
grant usage, create on schema staging, intermediate, marts, pii, audit to kcbx_transformer;
grant usage on schema raw to kcbx_transformer;
grant select on all tables in schema raw to kcbx_transformer;
alter default privileges for role kcbx_loader in schema raw grant select on tables to kcbx_transformer;
grant select on audit.load_files, audit.formula_cells, audit.control_char_cells to kcbx_transformer;
grant select on pii.child_keys to kcbx_transformer;
grant select, insert on audit.gx_results to kcbx_transformer;

-- kcbx_auditor (and the reporter, which reads what an auditor reads)
grant usage on schema marts, audit to kcbx_auditor;
grant select on audit.load_files, audit.gx_results, audit.formula_cells, audit.control_char_cells to kcbx_auditor;
-- Rejected rows are kept as delivered, names and identity numbers included: auditors
-- see why a row was rejected, not the row.
grant select (load_id, source_row, reason, reason_label, column_name) on audit.rejected_rows to kcbx_auditor;
-- Stored test failures dbt writes into audit (keys and reasons, no names).
alter default privileges for role kcbx_transformer in schema audit grant select on tables to kcbx_auditor, kcbx_admin;
grant kcbx_auditor to kcbx_reporter;
grant usage on schema pii to kcbx_reporter;
-- An earlier release let the reporter read two staging/intermediate models; the ledgers
-- now read marts (marts/ledgers/).
revoke usage on schema staging, intermediate from kcbx_reporter;

-- kcbx_bi, kcbx_township: marts only, through the grants each model declares (dbt).
grant usage on schema marts to kcbx_bi, kcbx_township;

-- kcbx_admin
grant usage on schema raw, staging, intermediate, marts, audit, pii to kcbx_admin;
grant select on all tables in schema raw to kcbx_admin;
grant select on audit.load_files, audit.rejected_rows, audit.formula_cells, audit.control_char_cells, audit.gx_results,
    audit.setup_version,
    pii.child_keys, pii.key_fingerprint to kcbx_admin;
alter default privileges for role kcbx_loader in schema raw grant select on tables to kcbx_admin;

-- Earlier releases granted these wider; take them back so a rerun converges.
alter default privileges in schema marts revoke select on tables from kcbx_bi, kcbx_auditor, kcbx_admin;
alter default privileges in schema audit revoke select on tables from kcbx_auditor, kcbx_admin;
