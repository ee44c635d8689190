-- The region hub (SPEC §7): what each county published, one partition per county, and
-- the hub's own roll-ups. Tokens and aggregates only: no identity number, name or key.
-- Applied by the hub's set-up login (`kcbx region run` runs it when it is missing or
-- older than the code); the contract's tables are created from
-- dbt_project/models/publish/_publish.yml by kcbx/region/hub.py.
--
-- Logins and groups:
--   kcbx_hub_loader      the refresh: owns region.*, copies each county's publication in
--   kcbx_region_bi       the region's BI account (group): every county's rows
--   kcbx_region_county   county accounts (group): their own county's rows only
--                        (region.county_accounts, row-level security)
do $$
begin
    if not exists (select 1 from pg_roles where rolname = 'kcbx_hub_loader') then
        create role kcbx_hub_loader login nosuperuser nocreatedb nocreaterole noreplication;
    else
        alter role kcbx_hub_loader login nosuperuser nocreatedb nocreaterole noreplication;
    end if;
    if not exists (select 1 from pg_roles where rolname = 'kcbx_region_bi') then
        create role kcbx_region_bi nologin;
    end if;
    if not exists (select 1 from pg_roles where rolname = 'kcbx_region_county') then
        create role kcbx_region_county nologin;
    end if;
end
$$;

-- Only the hub's own logins connect, and none creates temporary objects (a temporary
-- relation could shadow one the policies read; the refresh needs none).
do $$
begin
    execute format('revoke all on database %I from public', current_database());
    execute format(
        'grant connect on database %I to kcbx_hub_loader, kcbx_region_bi, kcbx_region_county', current_database()
    );
end
$$;

create schema if not exists region authorization kcbx_hub_loader;
revoke all on schema region from public;
revoke create on schema public from public;
grant usage on schema region to kcbx_region_bi, kcbx_region_county;

create table if not exists region.setup_version (
    singleton boolean primary key default true check (singleton),
    version text not null,
    applied_at timestamptz not null default now()
);
alter table region.setup_version owner to kcbx_hub_loader;

-- Which county accounts see which county: read by the policies below.
create table if not exists region.county_accounts (
    account name not null,
    county_code text not null,
    primary key (account, county_code)
);
alter table region.county_accounts owner to kcbx_hub_loader;
comment on table region.county_accounts is '县账号与县的对应关系（行级权限）';
alter table region.county_accounts enable row level security;
alter table region.county_accounts force row level security;
drop policy if exists own_rows on region.county_accounts;
create policy own_rows on region.county_accounts for select using (account = current_user);
-- FORCE binds the owner too: the hub's own login maps the accounts.
drop policy if exists hub_maintains on region.county_accounts;
create policy hub_maintains on region.county_accounts for all to kcbx_hub_loader using (true) with check (true);
grant select on region.county_accounts to kcbx_region_bi, kcbx_region_county;

-- The counties a region account may see; null: all of them.
create or replace function region.account_counties() returns text[]
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
                    or pg_catalog.pg_has_role(current_user, 'kcbx_region_bi', 'member')
                    or current_user = 'kcbx_hub_loader'
                )
        ) then null
        else coalesce(
            (select pg_catalog.array_agg(a.county_code) from region.county_accounts as a
             where a.account = current_user),
            '{}'::text[]
        )
    end
$$;
alter function region.account_counties() owner to kcbx_hub_loader;
revoke all on function region.account_counties() from public;
grant execute on function region.account_counties() to kcbx_region_bi, kcbx_region_county;
