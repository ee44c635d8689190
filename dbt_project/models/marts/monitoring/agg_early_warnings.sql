{{ config(post_hook="{{ township_row_security() }}", grants={'+select': ['kcbx_township']}) }}
-- 预警人数: children warned and newly warned per term, school week and township - what BI
-- and township accounts read of the early warning. Per-child warnings stay out of their
-- reach (marts.fct_early_warnings, marts.ledger_early_warnings): a child's score or
-- warning next to its attendance would give away whether it is in a 重点群体 or had an
-- earlier case, the parts of the score that describe the child.
with warnings as (
    select * from {{ ref('fct_early_warnings') }}
),

final as (
    select
        term_id,
        week_start,
        week_end,
        week_of_term,
        township_code,
        count(*) as warned_children,
        count(*) filter (where is_new) as new_warned_children
    from warnings
    group by term_id, week_start, week_end, week_of_term, township_code
)

select * from final
