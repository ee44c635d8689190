{{ config(post_hook="{{ township_row_security() }}", grants={'+select': ['kcbx_township']}) }}
-- 四查三比对 findings, one row per finding: every rule of SPEC §3 in one table.
with findings as (
    select * from {{ ref('int_findings') }}
),

labels as (
    select * from {{ ref('finding_types') }}
),

enrolment as (
    select * from {{ ref('fct_enrolment') }}
),

final as (
    select
        md5(concat_ws('|', findings.term_id, findings.finding_type, findings.child_key, findings.school_code))
            as finding_id,
        findings.term_id,
        findings.finding_type,
        labels.finding_label,
        findings.child_key,
        findings.school_code,
        findings.township_code,
        enrolment.stage,
        findings.details
    from findings
    -- left: a finding type missing from seeds/finding_types.csv keeps its rows and fails
    -- the build on finding_label's not_null test instead of vanishing
    left join labels
        on findings.finding_type = labels.finding_type
    left join enrolment
        on findings.term_id = enrolment.term_id
        and findings.child_key = enrolment.child_key
)

select * from final
