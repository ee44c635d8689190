{{ config(post_hook="{{ township_row_security(null_is_county=true) }}", grants={'+select': ['kcbx_township']}) }}
-- 适龄失学 by reason (seeds/out_of_school_reasons.csv), per term, for the county
-- (unit_level county) and each township: why children are out of school, for the
-- report, BI and the 通报.
with findings as (
    select * from {{ ref('fct_findings') }}
    where finding_type = 'out_of_school'
),

reasons as (
    select * from {{ ref('out_of_school_reasons') }}
),

counted as (
    select
        term_id,
        township_code,
        details ->> 'reason_code' as reason_code,
        grouping(township_code) = 1 as is_county,
        count(*) as children
    from findings
    group by grouping sets ((term_id, township_code, details ->> 'reason_code'), (term_id, details ->> 'reason_code'))
),

final as (
    select
        counted.term_id,
        case when counted.is_county then 'county' else 'township' end as unit_level,
        counted.township_code,
        counted.reason_code,
        reasons.reason_label,
        reasons.priority,
        counted.children
    from counted
    left join reasons
        on counted.reason_code = reasons.reason_code
)

select * from final
