-- Children across county lines (SPEC §7): the county's matching tokens and what the region
-- hands back. A token is HMAC-SHA256(KCBX_REGION_KEY, identity number), computed by
-- kcbx/region/tokens.py in Python as the loader (the region's key never enters a
-- database); the hub sees tokens, never numbers. The region writes the county's matches
-- (its own tokens only) into raw.region_matches as the county's loader; the term's next
-- build reads them (kcbx/region/matching.py).
create table if not exists pii.region_tokens (
    child_key text primary key,
    token text not null
);
comment on table pii.region_tokens is '区域匹配令牌（HMAC，区域密钥）与儿童键的对应（仅限特权角色）';
create index if not exists region_tokens_token on pii.region_tokens (token);

-- Fingerprint of the region key the tokens were made with: a new key (rotated each school
-- year) makes every token again.
create table if not exists pii.region_key_fingerprint (
    singleton boolean primary key default true check (singleton),
    fingerprint text not null
);

create table if not exists raw.region_matches (
    term_id text not null,
    token text not null,
    -- confirmed_elsewhere: enrolled (在读/休学) at another county's school on the census
    -- date; duplicate_registration: 在读 in this county and another
    match_type text not null check (match_type in ('confirmed_elsewhere', 'duplicate_registration')),
    other_county_code text not null,
    other_county_name text not null,
    school_code text not null,
    school_name text,
    grade integer,
    handed_at timestamptz not null,
    primary key (term_id, token, match_type, other_county_code, school_code)
);
comment on table raw.region_matches is '区域下发的跨县比对结果：本县令牌在他县学籍中的情况（仅令牌，不含身份证号与姓名）';

alter table pii.region_tokens owner to kcbx_loader;
alter table pii.region_key_fingerprint owner to kcbx_loader;
alter table raw.region_matches owner to kcbx_loader;
revoke all on pii.region_tokens, pii.region_key_fingerprint, raw.region_matches
    from kcbx_transformer, kcbx_reporter, kcbx_bi, kcbx_township, kcbx_auditor, kcbx_admin, kcbx_publisher;
grant select on pii.region_tokens, raw.region_matches to kcbx_transformer, kcbx_admin;
grant select on pii.region_key_fingerprint to kcbx_admin;
-- kcbx_region_inbox (a login made in sql/020): the region's login into the county. It
-- writes the county's matches and reads whether a run holds the term (a hand-over waits
-- for the run to end, so a build never reads half of them), nothing else: no raw
-- delivery, no key map.
grant usage on schema raw, audit to kcbx_region_inbox;
grant select, insert, delete on raw.region_matches to kcbx_region_inbox;
grant select on audit.term_locks to kcbx_region_inbox;
