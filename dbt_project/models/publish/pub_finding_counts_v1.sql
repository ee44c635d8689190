-- 向区域发布：比对发现数. Findings per term, type and township (county-wide findings
-- without a township under township_code null). Counts only: no child leaves the county.
with findings as (
    select * from {{ ref('fct_findings') }}
),

final as (
    select
        term_id,
        finding_type,
        township_code,
        count(*)::bigint as findings,
        count(distinct child_key)::bigint as children
    from findings
    group by term_id, finding_type, township_code
)

select * from final
