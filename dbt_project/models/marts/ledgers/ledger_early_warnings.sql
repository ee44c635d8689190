-- 预警名单台账: each warning of marts.fct_early_warnings with why the child scored - its
-- 重点群体, an earlier case, and the score's parts in words (summary) - for the 预警名单
-- workbooks and auditors. Per-child reasons, so not readable by BI or township accounts.
with warnings as (
    select * from {{ ref('fct_early_warnings') }}
),

scores as (
    select * from {{ ref('int_warning_scores') }}
    where is_warned
),

final as (
    select
        warnings.warning_id,
        warnings.term_id,
        warnings.week_start,
        warnings.township_code,
        warnings.child_key,
        scores.priority_groups,
        scores.has_earlier_case,
        scores.details,
        (
            select string_agg(part ->> 'words', '；' order by ordinality)
            from jsonb_array_elements(scores.details) with ordinality as parts (part, ordinality)
        ) as summary
    from warnings
    inner join scores
        on warnings.term_id = scores.term_id
        and warnings.week_start = scores.week_start
        and warnings.child_key = scores.child_key
)

select * from final
