-- Row-level security for township accounts. The bureau's BI account (kcbx_bi), auditors,
-- the reporter and admins see every township; an account in kcbx_township sees only the
-- rows of the townships it is mapped to below. dbt re-creates the marts on every build,
-- so each protected mart re-applies its policy in a post-hook (macros/
-- township_row_security.sql) that calls audit.account_townships().

create table if not exists audit.township_accounts (
    account name not null,
    township_code text not null,
    granted_at timestamptz not null default now(),
    primary key (account, township_code)
);
comment on table audit.township_accounts is '乡镇账号与乡镇的对应关系（行级权限）/ which townships each township account may see';

-- A township account reads its own mapping rows and nobody else's: the policy below
-- answers for current_user, so no account can ask about another one.
alter table audit.township_accounts enable row level security;
alter table audit.township_accounts force row level security;
drop policy if exists own_rows on audit.township_accounts;
create policy own_rows on audit.township_accounts for select using (account = current_user);
revoke all on audit.township_accounts
    from kcbx_loader, kcbx_transformer, kcbx_reporter, kcbx_bi, kcbx_township, kcbx_auditor, kcbx_admin;
-- Everyone whose queries evaluate the policy function needs the grant (a function's
-- tables are checked when it is planned); the policy still shows each only its own rows.
grant select on audit.township_accounts to kcbx_township, kcbx_bi, kcbx_auditor, kcbx_admin, kcbx_transformer;

-- An earlier release took the account as an argument (SECURITY DEFINER): gone.
drop function if exists audit.account_townships(name) cascade;

-- The townships the current user may see; null means all of them. SECURITY INVOKER:
-- inside it current_user is the querying account, and the mapping rows it reads are
-- its own (the policy above). Every relation is schema-qualified and pg_temp comes last
-- in its search_path: PostgreSQL otherwise looks in the session's temporary schema
-- first, and a township login's `create temp view pg_roles ...` claiming rolsuper would
-- answer "all townships" (the login cannot create temporary objects any more either:
-- see the end of this file).
create or replace function audit.account_townships() returns text[]
language sql
stable
security invoker
set search_path = pg_catalog, pg_temp
as $$
    select case
        when exists (
            select 1 from pg_catalog.pg_roles as r
            where r.rolname = current_user
                and (
                    r.rolsuper or r.rolbypassrls
                    or pg_catalog.pg_has_role(current_user, 'kcbx_bi', 'member')
                    or pg_catalog.pg_has_role(current_user, 'kcbx_auditor', 'member')
                    or pg_catalog.pg_has_role(current_user, 'kcbx_admin', 'member')
                    or pg_catalog.pg_has_role(current_user, 'kcbx_transformer', 'member')
                )
        ) then null
        else coalesce(
            (
                select pg_catalog.array_agg(a.township_code)
                from audit.township_accounts as a
                where a.account = current_user
            ),
            '{}'::pg_catalog.text[]
        )
    end
$$;

revoke all on function audit.account_townships() from public;
grant usage on schema audit to kcbx_township, kcbx_bi;
grant execute on function audit.account_townships()
    to kcbx_township, kcbx_bi, kcbx_auditor, kcbx_admin, kcbx_transformer;

-- Temporary objects only for the stages that make them (the loader's key staging table,
-- dbt's incremental and snapshot temp tables). Nobody else may shadow a catalog or
-- audit relation with a temporary one in its own session.
do $$
begin
    execute format('revoke temporary on database %I from public', current_database());
    execute format('grant temporary on database %I to kcbx_loader, kcbx_transformer', current_database());
end
$$;
