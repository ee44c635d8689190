{{ config(post_hook="{{ township_row_security() }}", grants={'+select': ['kcbx_township']}) }}
-- 劝返台账: every 劝返 action once, with its 四步法 stage and the case it belongs to
-- (the child's episode open on the action's date). An action for a child with no case
-- open that day keeps a null case_id: the township acted on a child the comparisons
-- did not flag, which auditors should see rather than lose.
-- Per action: late = more than 30 days after the previous action of the case (or its
-- opening); unescalated = at least 3 failed (未返校) actions at the same stage came before
-- it, so it should have been the next step (stage 4 is the last step).
with actions as (
    select * from {{ ref('int_case_actions') }}
),

episodes as (
    select * from {{ ref('int_case_episodes') }}
),

code_values as (
    select * from {{ ref('code_values') }}
),

case_townships as (
    select distinct on (case_id) case_id, township_code
    from {{ ref('int_case_terms') }}
    order by case_id, term_id desc
),

matched as (
    select distinct on (actions.action_id)
        actions.*,
        episodes.case_id,
        episodes.opened_on,
        case_townships.township_code as case_township_code
    from actions
    left join episodes
        on actions.child_key = episodes.child_key
        and actions.action_on >= episodes.opened_on
        and (episodes.closed_on is null or actions.action_on <= episodes.closed_on)
    left join case_townships on episodes.case_id = case_townships.case_id
    order by actions.action_id, episodes.opened_on desc
),

sequenced as (
    select
        *,
        lag(action_on) over case_order as previous_action_on,
        count(*) filter (where action_result = '未返校') over (
            partition by case_id, stage order by action_on, stage, action_method, action_result, action_id
            rows between unbounded preceding and 1 preceding
        ) as failed_before_at_stage
    from matched
    window case_order as (
        partition by case_id order by action_on, stage, action_method, action_result, action_id
    )
),

final as (
    select
        sequenced.action_id,
        sequenced.case_id,
        sequenced.child_key,
        sequenced.term_id,
        sequenced.action_on,
        sequenced.action_method,
        sequenced.action_method_code,
        sequenced.stage,
        stages.value as stage_label,
        sequenced.action_result,
        sequenced.action_result_code,
        sequenced.resulting_status,
        sequenced.dropout_reason,
        sequenced.dropout_reason_code,
        sequenced.responsible_key,
        sequenced.township_code as reported_township_code,
        coalesce(sequenced.case_township_code, sequenced.township_code) as township_code,
        sequenced.action_on - sequenced.opened_on as days_since_opened,
        sequenced.action_on - coalesce(sequenced.previous_action_on, sequenced.opened_on) as days_since_previous,
        sequenced.case_id is not null
        and sequenced.action_on - coalesce(sequenced.previous_action_on, sequenced.opened_on) > 30 as is_late,
        sequenced.case_id is not null
        and sequenced.stage < 4
        and coalesce(sequenced.failed_before_at_stage, 0) >= 3 as is_unescalated
    from sequenced
    inner join code_values as stages
        on stages.code_list = 'case_stage' and sequenced.stage = stages.detail::int
)

select * from final
