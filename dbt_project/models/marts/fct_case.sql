{{ config(post_hook="{{ township_row_security() }}", grants={'+select': ['kcbx_township']}) }}
-- 一人一案: one row per case with where it stands now (the latest term loaded, or its
-- closing). Rules in int_case_episodes and int_case_terms.
with episodes as (
    select * from {{ ref('int_case_episodes') }}
),

case_terms as (
    select * from {{ ref('int_case_terms') }}
),

case_findings as (
    select * from {{ ref('int_case_findings') }}
),

children as (
    select * from {{ ref('int_child_terms') }}
),

finding_types as (
    select * from {{ ref('finding_types') }}
),

code_values as (
    select * from {{ ref('code_values') }}
),

current_state as (
    select distinct on (case_id) *
    from case_terms
    order by case_id, term_id desc
),

opening as (
    select episodes.case_id, case_findings.case_type
    from episodes
    inner join case_findings
        on episodes.child_key = case_findings.child_key
        and episodes.opened_term_id = case_findings.term_id
),

episode_findings as (
    select episodes.case_id, array_agg(distinct finding_type order by finding_type) as finding_types
    from episodes
    inner join case_findings
        on episodes.child_key = case_findings.child_key
        and case_findings.term_id between episodes.opened_term_id and episodes.last_found_term_id
    cross join lateral unnest(case_findings.finding_types) as finding_type
    group by episodes.case_id
),

child_attributes as (
    select distinct on (current_state.case_id)
        current_state.case_id,
        children.monitoring_type is not null as is_poverty_monitored,
        children.disability_category is not null as is_disabled,
        children.is_orphan or children.is_de_facto_unsupported or children.is_in_hardship
        or children.is_dibao or children.is_tekun as is_in_hardship,
        children.is_left_behind,
        children.is_prisoners_child,
        children.is_migrant
    from current_state
    inner join children
        on current_state.child_key = children.child_key
        and children.term_id <= current_state.term_id
    order by current_state.case_id, children.term_id desc
),

final as (
    select
        episodes.case_id,
        -- what a person reads and says on the phone: the opening term and the case id's start
        left(episodes.opened_term_id, 4) || '-' || right(episodes.opened_term_id, 1) || '-'
        || upper(left(episodes.case_id, 10)) as case_no,
        episodes.child_key,
        episodes.episode_no,
        opening.case_type,
        finding_types.finding_label as case_type_label,
        array_to_string(episode_findings.finding_types, ',') as finding_types,
        episodes.opened_term_id,
        episodes.opened_on,
        current_state.term_id as as_of_term_id,
        current_state.as_of_on,
        current_state.case_status,
        statuses.code as case_status_code,
        current_state.stage,
        stages.value as stage_label,
        current_state.actions,
        current_state.failed_actions,
        current_state.last_action_on,
        current_state.days_open,
        current_state.is_action_overdue,
        current_state.is_escalation_overdue,
        current_state.dropout_reason,
        current_state.responsible_key,
        current_state.school_code,
        current_state.township_code,
        episodes.found_terms,
        episodes.closed_term_id,
        episodes.closed_on,
        episodes.closing_reason,
        coalesce(child_attributes.is_poverty_monitored, false) as is_poverty_monitored,
        coalesce(child_attributes.is_disabled, false) as is_disabled,
        coalesce(child_attributes.is_in_hardship, false) as is_in_hardship,
        coalesce(child_attributes.is_left_behind, false) as is_left_behind,
        coalesce(child_attributes.is_prisoners_child, false) as is_prisoners_child,
        coalesce(child_attributes.is_migrant, false) as is_migrant
    from episodes
    inner join current_state on episodes.case_id = current_state.case_id
    inner join opening on episodes.case_id = opening.case_id
    inner join episode_findings on episodes.case_id = episode_findings.case_id
    inner join finding_types on opening.case_type = finding_types.finding_type
    inner join code_values as statuses
        on statuses.code_list = 'case_status' and current_state.case_status = statuses.value
    inner join code_values as stages
        on stages.code_list = 'case_stage' and current_state.stage = stages.detail::int
    left join child_attributes on episodes.case_id = child_attributes.case_id
)

select * from final
