-- 疑似辍学台账: registered but not attending (finding types with is_not_attending:
-- 空挂学籍 and 疑似辍学), one row per finding.
with findings as (
    select * from {{ ref('fct_findings') }}
),

finding_types as (
    select * from {{ ref('finding_types') }}
),

regions as (
    select * from {{ ref('dim_region') }}
),

schools as (
    select * from {{ ref('dim_school') }}
),

final as (
    select
        findings.term_id,
        findings.township_code,
        coalesce(townships.region_name, '未知乡镇') as sheet_name,
        findings.child_key,
        schools.school_name,
        findings.finding_label,
        (findings.details ->> 'unexcused_run')::int as unexcused_run,
        findings.details ->> 'last_present_on' as last_present_on,
        findings.details ->> 'summary' as summary
    from findings
    inner join finding_types
        on findings.finding_type = finding_types.finding_type
    left join regions as townships
        on findings.township_code = townships.region_code
    left join schools
        on findings.school_code = schools.school_code
    where finding_types.is_not_attending
)

select * from final
