-- Row-level security for township accounts. The bureau's BI account (kcbx_bi), auditors
-- and admins see every township; an account in kcbx_township sees only the rows of the
-- townships it is mapped to below. dbt re-creates the marts on every build, so each
-- protected mart re-applies its policy in a post-hook (macros/township_row_security.sql)
-- that calls audit.account_townships.

create table if not exists audit.township_accounts (
    account name not null,
    township_code text not null,
    granted_at timestamptz not null default now(),
    primary key (account, township_code)
);
comment on table audit.township_accounts is '乡镇账号与乡镇的对应关系（行级权限）/ which townships each township account may see';

-- The townships an account may see; null means all of them. SECURITY DEFINER so that
-- township accounts need no read access to the mapping itself; the account is passed
-- in because inside the function current_user is the function's owner.
create or replace function audit.account_townships(account name) returns text[]
language sql
stable
security definer
set search_path = pg_catalog
as $$
    select case
        when exists (
            select 1 from pg_roles
            where rolname = account
                and (
                    rolsuper or rolbypassrls
                    or pg_has_role(account, 'kcbx_bi', 'member')
                    or pg_has_role(account, 'kcbx_auditor', 'member')
                    or pg_has_role(account, 'kcbx_admin', 'member')
                    or pg_has_role(account, 'kcbx_transformer', 'member')
                )
        ) then null
        else coalesce(
            (select array_agg(township_code) from audit.township_accounts where township_accounts.account = $1),
            '{}'::text[]
        )
    end
$$;

do $$
begin
    revoke all on function audit.account_townships(name) from public;
    grant usage on schema marts, audit to kcbx_township;
    grant execute on function audit.account_townships(name) to kcbx_township, kcbx_bi, kcbx_auditor, kcbx_admin;
exception when undefined_object or insufficient_privilege then
    raise notice 'kcbx row-level security grants not applied: roles missing or not permitted';
end
$$;
