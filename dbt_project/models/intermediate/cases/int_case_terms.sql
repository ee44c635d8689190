-- Case x term: where each case stood at the end of every term it was open in (its
-- 台账 row for that term). Term by term, not only "now", so that a closed term's
-- figures can be frozen and the case's history read back.
--
-- Status at the end of term T (the status codes are in seeds/code_values.csv):
--   销号 / 核销  the case closed in T or before (see int_case_episodes);
--   from the latest 劝返 action up to T's last day: 未返校 -> 劝返中, 已返校 -> 已返校,
--               送教上门 / 转特殊教育学校 / 延缓入学 -> 已安置, except that a child found
--               again in a term starting after that action is 劝返中 (the return failed);
--   已核实       no action yet, but found in two terms or by an official record;
--   疑似         no action yet, inferred from one term's comparison.
-- Stage: the highest 四步法 step taken so far (0 none). Overdue, for open cases only:
-- no action for more than 30 days by the term's last day (counted from opening when
-- there is none), and 3 or more failed (未返校) actions at the current stage without
-- escalating (stage 4, 司法程序, is the last step and never counts).
with terms as (
    select * from {{ ref('int_terms') }}
),

episodes as (
    select * from {{ ref('int_case_episodes') }}
),

case_findings as (
    select * from {{ ref('int_case_findings') }}
),

actions as (
    select * from {{ ref('int_case_actions') }}
),

last_term as (
    select max(term_id) as term_id from terms
),

case_terms as (
    select
        episodes.case_id,
        episodes.child_key,
        episodes.opened_term_id,
        episodes.opened_on,
        episodes.closed_term_id,
        episodes.closed_on,
        episodes.closing_status,
        terms.term_id,
        terms.first_day,
        terms.last_day
    from episodes
    cross join last_term
    inner join terms
        on terms.term_id >= episodes.opened_term_id
        and terms.term_id <= coalesce(episodes.closed_term_id, last_term.term_id)
),

case_actions as (
    select
        case_terms.case_id,
        case_terms.term_id,
        actions.action_on,
        actions.stage,
        actions.action_result,
        actions.resulting_status,
        actions.dropout_reason,
        actions.responsible_key
    from case_terms
    inner join actions
        on case_terms.child_key = actions.child_key
        and actions.action_on >= case_terms.opened_on
        and actions.action_on <= least(case_terms.closed_on, case_terms.last_day)
),

latest_action as (
    select distinct on (case_id, term_id)
        case_id,
        term_id,
        action_on as last_action_on,
        resulting_status as last_action_status,
        dropout_reason,
        responsible_key
    from case_actions
    order by case_id, term_id, action_on desc, stage desc, action_result desc
),

action_summary as (
    select
        case_id,
        term_id,
        count(*) as actions,
        max(stage) as stage,
        count(*) filter (where action_result = '未返校') as failed_actions
    from case_actions
    group by case_id, term_id
),

failed_at_stage as (
    select case_actions.case_id, case_actions.term_id, count(*) as failed_at_current_stage
    from case_actions
    inner join action_summary
        on case_actions.case_id = action_summary.case_id
        and case_actions.term_id = action_summary.term_id
        and case_actions.stage = action_summary.stage
    where case_actions.action_result = '未返校'
    group by case_actions.case_id, case_actions.term_id
),

found_so_far as (
    select
        case_terms.case_id,
        case_terms.term_id,
        count(*) as found_terms,
        bool_or(case_findings.is_official_record) as has_official_record,
        max(finding_terms.first_day) as last_found_term_start,
        (array_agg(case_findings.school_code order by case_findings.term_id desc))[1] as school_code,
        (array_agg(case_findings.township_code order by case_findings.term_id desc))[1] as township_code
    from case_terms
    inner join case_findings
        on case_terms.child_key = case_findings.child_key
        and case_findings.term_id >= case_terms.opened_term_id
        and case_findings.term_id <= case_terms.term_id
        and case_findings.term_id <= coalesce(case_terms.closed_term_id, case_terms.term_id)
    inner join terms as finding_terms on case_findings.term_id = finding_terms.term_id
    group by case_terms.case_id, case_terms.term_id
),

joined as (
    select
        case_terms.*,
        coalesce(action_summary.actions, 0) as actions,
        coalesce(action_summary.stage, 0) as stage,
        coalesce(action_summary.failed_actions, 0) as failed_actions,
        coalesce(failed_at_stage.failed_at_current_stage, 0) as failed_at_current_stage,
        latest_action.last_action_on,
        latest_action.last_action_status,
        latest_action.dropout_reason,
        latest_action.responsible_key,
        found_so_far.found_terms,
        found_so_far.has_official_record,
        found_so_far.last_found_term_start,
        found_so_far.school_code,
        found_so_far.township_code,
        case_terms.closed_term_id is not null and case_terms.closed_term_id <= case_terms.term_id as is_closed
    from case_terms
    left join action_summary
        on case_terms.case_id = action_summary.case_id
        and case_terms.term_id = action_summary.term_id
    left join failed_at_stage
        on case_terms.case_id = failed_at_stage.case_id
        and case_terms.term_id = failed_at_stage.term_id
    left join latest_action
        on case_terms.case_id = latest_action.case_id
        and case_terms.term_id = latest_action.term_id
    inner join found_so_far
        on case_terms.case_id = found_so_far.case_id
        and case_terms.term_id = found_so_far.term_id
),

final as (
    select
        case_id,
        child_key,
        term_id,
        case
            when is_closed then closing_status
            when last_action_on is not null and last_action_status <> '劝返中'
                and last_found_term_start > last_action_on then '劝返中'
            when last_action_on is not null then last_action_status
            when found_terms >= 2 or has_official_record then '已核实'
            else '疑似'
        end as case_status,
        stage,
        actions,
        failed_actions,
        last_action_on,
        dropout_reason,
        responsible_key,
        school_code,
        township_code,
        last_day as as_of_on,
        least(last_day, closed_on) - opened_on as days_open,
        not is_closed and last_day - coalesce(last_action_on, opened_on) > 30 as is_action_overdue,
        not is_closed and stage between 1 and 3 and failed_at_current_stage >= 3 as is_escalation_overdue
    from joined
)

select * from final
