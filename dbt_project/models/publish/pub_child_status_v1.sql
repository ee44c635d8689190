-- 向区域发布：儿童状态（仅匹配令牌）(SPEC §7). Two kinds of row per term, keyed by the
-- child's matching token (pii.region_tokens; no token without the region's key, so then
-- no row): every compulsory-cohort child the county is responsible for, with its status,
-- and every 在读/休学 registration at a county school. A child without an identity number
-- has no token and cannot be matched. No number, no name, no child_key leaves the county.
with children as (
    select * from {{ ref('int_child_terms') }}
    where in_cohort and is_county_responsibility
),

registrations as (
    select * from {{ ref('int_registrations') }}
    where is_county_school and is_on_roll and has_id_number
),

primary_registrations as (
    select * from {{ ref('int_primary_registrations') }}
),

out_of_school as (
    select term_id, child_key, details ->> 'reason_code' as reason_code
    from {{ ref('int_findings__out_of_school') }}
),

schools as (
    select * from {{ ref('stg_jiaoyu__schools') }}
),

tokens as (
    select * from {{ source('pii', 'region_tokens') }}
),

-- when the child's 学籍 at a county school last changed: a child two counties count is the
-- one's where it was last registered (SPEC §7, counted once)
last_registered as (
    select term_id, child_key, max(status_changed_on) as last_registered_on
    from {{ ref('int_registrations') }}
    where is_county_school
    group by term_id, child_key
),

responsible as (
    select
        children.term_id,
        tokens.token,
        'responsible' as record,
        -- the county's own view before the region's matches, and what it made of them:
        -- a child the region confirmed stays matchable (confirmed_by_region), so the
        -- match is found again on the next refresh and the county's figures stay put
        case
            when children.is_enrolled then 'enrolled'
            when children.is_exempt then 'exempt'
            when children.has_completed then 'completed'
            when children.is_confirmed_by_township then 'confirmed_elsewhere'
            when children.is_confirmed_by_region then 'confirmed_by_region'
            -- 流出未落实: left a county school (转出, 辍学) with no confirmed whereabouts
            when out_of_school.reason_code in ('transferred_out_unplaced', 'registry_dropout') then 'left_unconfirmed'
            else 'out_of_school'
        end as status,
        case when children.is_enrolled then primary_registrations.school_code end as school_code,
        case when children.is_enrolled then primary_registrations.grade end as grade,
        out_of_school.reason_code,
        -- why the county is responsible: a 学籍 row at one of its schools (流入地) or its 户籍
        case when children.has_county_registration then '学籍' else '户籍' end as responsible_by,
        last_registered.last_registered_on
    from children
    inner join tokens
        on children.child_key = tokens.child_key
    left join primary_registrations
        on children.term_id = primary_registrations.term_id
        and children.child_key = primary_registrations.child_key
    left join out_of_school
        on children.term_id = out_of_school.term_id
        and children.child_key = out_of_school.child_key
    left join last_registered
        on children.term_id = last_registered.term_id
        and children.child_key = last_registered.child_key
),

registered as (
    select distinct on (registrations.term_id, tokens.token, registrations.school_code)
        registrations.term_id,
        tokens.token,
        'registration' as record,
        registrations.registry_status as status,
        registrations.school_code,
        registrations.grade,
        null::text as reason_code,
        null::text as responsible_by,
        null::date as last_registered_on
    from registrations
    inner join tokens
        on registrations.child_key = tokens.child_key
    order by
        registrations.term_id, tokens.token, registrations.school_code, registrations.registry_rank,
        registrations.grade desc nulls last, registrations.student_key
),

unioned as (
    select * from responsible
    union all
    select * from registered
),

final as (
    select
        unioned.term_id,
        unioned.token,
        unioned.record,
        unioned.status,
        unioned.school_code,
        schools.school_name,
        unioned.grade::integer as grade,
        unioned.reason_code,
        unioned.responsible_by,
        unioned.last_registered_on
    from unioned
    left join schools
        on unioned.term_id = schools.term_id
        and unioned.school_code = schools.school_code
)

select * from final
