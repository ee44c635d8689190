{{ config(post_hook="{{ township_row_security(null_is_county=true) }}", grants={'+select': ['kcbx_township']}) }}
-- 缓免学 by status and approval, per term, for the county (unit_level county, township_code
-- null) and each township (the child's home township): the exempt children of the
-- compulsory cohort (intermediate.int_exemptions: 学籍 延缓入学/免于入学, not enrolled, not
-- completed) counted by 延缓入学/免于入学 and whether a 缓免学审批 covers the term's census
-- date (已审批) or not (未审批, each an exemption_unapproved finding). Only combinations
-- with children have a row; the report shows the full 2 x 2 table.
with exemptions as (
    select * from {{ ref('int_exemptions') }}
),

counted as (
    select
        term_id,
        township_code,
        grouping(township_code) = 1 as is_county,
        exemption_status,
        is_approved,
        count(*) as children
    from exemptions
    group by grouping sets (
        (term_id, township_code, exemption_status, is_approved),
        (term_id, exemption_status, is_approved)
    )
),

final as (
    select
        term_id,
        case when is_county then 'county' else 'township' end as unit_level,
        case when is_county then null else township_code end as township_code,
        exemption_status,
        is_approved,
        case when is_approved then '已审批' else '未审批' end as approval_label,
        children
    from counted
    -- a child without a home township counts in the county's row only
    where is_county or township_code is not null
)

select * from final
