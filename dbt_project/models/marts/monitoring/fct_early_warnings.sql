{#- Per child: auditors and admins (and the reporter, for the 预警名单) only. BI and
    township accounts read the counts of agg_early_warnings. -#}
{{ config(grants={'select': ['kcbx_auditor', 'kcbx_admin']}) }}
-- 预警: one row per child per school week it is warned (int_warning_scores): the score and
-- the attendance behind it. is_new: not warned the week before. Why a child scored (its
-- 重点群体, an earlier case, the parts in words) is in marts.ledger_early_warnings.
with scores as (
    select * from {{ ref('int_warning_scores') }}
),

warned as (
    select
        *,
        lag(week_seq) over (partition by child_key order by week_seq) as previous_warned_week_seq
    from scores
    where is_warned
),

final as (
    select
        {{ dbt.hash("term_id || '|' || week_start::text || '|' || child_key") }} as warning_id,
        term_id,
        week_start,
        week_start + 6 as week_end,
        week_of_term,
        week_end_day as warned_on,
        child_key,
        school_code,
        township_code,
        score,
        current_run,
        recent_unexcused,
        drop_points,
        stage_band,
        previous_warned_week_seq is distinct from week_seq - 1 as is_new
    from warned
)

select * from final
