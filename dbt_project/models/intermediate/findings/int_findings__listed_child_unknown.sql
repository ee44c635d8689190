-- 部门名单儿童无户籍学籍: a compulsory-cohort child on a department's list whom neither
-- 户籍 (any status) nor 学籍 (any school, any status) knows and no 去向核实 of the school
-- year confirms: the county cannot tell whether the child is in school.
with listed as (
    select * from {{ ref('int_listed_children') }}
),

terms as (
    select * from {{ ref('int_terms') }}
),

household as (
    select distinct term_id, child_key from {{ ref('stg_gongan__household_registrations') }}
),

registrations as (
    select distinct term_id, child_key from {{ ref('int_registrations') }}
),

confirmations as (
    select * from {{ ref('stg_quxiang__whereabouts_confirmations') }}
),

confirmed as (
    select distinct confirmations.term_id, confirmations.child_key
    from confirmations
    inner join terms
        on confirmations.term_id = terms.term_id
    where confirmations.confirmed_on
        between make_date(terms.school_year, 9, 1) and make_date(terms.school_year + 1, 8, 31)
),

unknown as (
    select listed.*
    from listed
    inner join terms
        on listed.term_id = terms.term_id
    where listed.birth_date between terms.cohort_first_birth and terms.cohort_last_birth
        and not exists (
            select 1 from household
            where household.term_id = listed.term_id and household.child_key = listed.child_key
        )
        and not exists (
            select 1 from registrations
            where registrations.term_id = listed.term_id and registrations.child_key = listed.child_key
        )
        and not exists (
            select 1 from confirmed
            where confirmed.term_id = listed.term_id and confirmed.child_key = listed.child_key
        )
),

final as (
    select
        term_id,
        'listed_child_unknown' as finding_type,
        child_key,
        null::text as school_code,
        township_code,
        jsonb_build_object(
            'summary', departments || '名单中的适龄儿童，户籍、学籍中均无记录，本学年也无去向核实，请核实去向',
            'feeds', jsonb_build_array('户籍', '学籍', '去向核实'),
            'departments', departments
        ) as details
    from unknown
)

select * from final
