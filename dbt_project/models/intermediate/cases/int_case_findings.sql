-- Child x term: the findings that open a case (finding_types.opens_case), with the
-- case's type, school and township from the most important of them, and whether the
-- finding is verified by an official record rather than inferred: 学籍 status 辍学
-- (the school registered the dropout), 人社's child-labour inspection, or 公安's closed
-- 户籍 against an active 学籍.
with findings as (
    select * from {{ ref('int_findings') }}
),

finding_types as (
    select * from {{ ref('finding_types') }}
),

registrations as (
    select * from {{ ref('int_registrations') }}
),

case_findings as (
    select findings.*, finding_types.case_priority
    from findings
    inner join finding_types
        on findings.finding_type = finding_types.finding_type
    where finding_types.opens_case
        and findings.child_key is not null
),

registered_dropouts as (
    select distinct term_id, child_key
    from registrations
    where registry_status = '辍学'
),

ranked as (
    select
        case_findings.term_id,
        case_findings.child_key,
        first_value(case_findings.finding_type) over child_term as case_type,
        first_value(case_findings.school_code) over child_term as school_code,
        first_value(case_findings.township_code) over child_term as township_code,
        case_findings.finding_type,
        case_findings.finding_type in ('child_labour', 'deregistered_enrolled')
        or (case_findings.finding_type = 'out_of_school' and registered_dropouts.child_key is not null)
            as is_official_record
    from case_findings
    left join registered_dropouts
        on case_findings.term_id = registered_dropouts.term_id
        and case_findings.child_key = registered_dropouts.child_key
    window child_term as (
        partition by case_findings.term_id, case_findings.child_key
        order by case_findings.case_priority, case_findings.school_code
    )
),

final as (
    select
        term_id,
        child_key,
        case_type,
        school_code,
        township_code,
        array_agg(finding_type order by finding_type) as finding_types,
        bool_or(is_official_record) as is_official_record
    from ranked
    group by term_id, child_key, case_type, school_code, township_code
)

select * from final
