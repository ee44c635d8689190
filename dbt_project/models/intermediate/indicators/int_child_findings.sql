-- Child x term: the finding flags the indicators count — 适龄失学, and registered but not
-- attending (finding types with is_not_attending: 空挂学籍, 疑似辍学).
with findings as (
    select * from {{ ref('int_findings') }}
),

finding_types as (
    select * from {{ ref('finding_types') }}
),

final as (
    select
        findings.term_id,
        findings.child_key,
        bool_or(findings.finding_type = 'out_of_school') as is_out_of_school,
        bool_or(finding_types.is_not_attending) as is_not_attending
    from findings
    inner join finding_types
        on findings.finding_type = finding_types.finding_type
    where findings.child_key is not null
    group by findings.term_id, findings.child_key
)

select * from final
