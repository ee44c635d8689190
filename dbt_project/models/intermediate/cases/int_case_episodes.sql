-- One row per case (一人一案): an episode of a child's dropout risk, from the term a
-- case-opening finding first appears until the data or a 核销 action close it.
--
-- Per child the events run in time order: "found" (a term with a case-opening finding,
-- at the term's first day), "clear" (a later term in which the child appears in the
-- county's data without such a finding, at that term's census date) and "written off"
-- (a 劝返 action with result 核销, on its date). A found event after nothing, a clear or
-- a write-off opens a new episode; consecutive found terms carry the case over; the
-- first clear or write-off closes it. A child found again after closing gets a new
-- episode (重新立案), never a reopened old one.
with terms as (
    select * from {{ ref('int_terms') }}
),

children as (
    select * from {{ ref('int_child_terms') }}
),

case_findings as (
    select * from {{ ref('int_case_findings') }}
),

actions as (
    select * from {{ ref('int_case_actions') }}
),

case_children as (
    select distinct child_key from case_findings
),

found_events as (
    select
        case_findings.child_key,
        case_findings.term_id,
        terms.first_day as event_on,
        0 as event_order,
        'found' as event_kind
    from case_findings
    inner join terms on case_findings.term_id = terms.term_id
),

clear_events as (
    select
        children.child_key,
        children.term_id,
        terms.census_date as event_on,
        1 as event_order,
        'clear' as event_kind
    from children
    inner join case_children on children.child_key = case_children.child_key
    inner join terms on children.term_id = terms.term_id
    left join case_findings
        on children.term_id = case_findings.term_id
        and children.child_key = case_findings.child_key
    where case_findings.child_key is null
),

written_off_events as (
    select
        actions.child_key,
        actions.term_id,
        actions.action_on as event_on,
        2 as event_order,
        'written_off' as event_kind
    from actions
    inner join case_children on actions.child_key = case_children.child_key
    where actions.resulting_status = '核销'
),

events as (
    select * from found_events
    union all select * from clear_events
    union all select * from written_off_events
),

sequenced as (
    select
        *,
        event_kind = 'found'
        and coalesce(
            lag(event_kind) over (partition by child_key order by event_on, event_order) <> 'found', true
        ) as opens_episode
    from events
),

numbered as (
    select
        *,
        sum(opens_episode::int) over (
            partition by child_key order by event_on, event_order rows unbounded preceding
        ) as episode_no
    from sequenced
),

opened as (
    select child_key, episode_no, term_id as opened_term_id, event_on as opened_on
    from numbered
    where opens_episode
),

closed as (
    select distinct on (child_key, episode_no)
        child_key,
        episode_no,
        term_id as closed_term_id,
        event_on as closed_on,
        event_kind as closed_by
    from numbered
    where episode_no > 0 and event_kind <> 'found'
    order by child_key, episode_no, event_on, event_order
),

found_terms as (
    select child_key, episode_no, count(*) as found_terms, max(term_id) as last_found_term_id
    from numbered
    where event_kind = 'found'
    group by child_key, episode_no
),

closing_state as (
    select
        closed.*,
        case
            when closed.closed_by = 'written_off' then '核销'
            when children.is_enrolled or children.is_exempt or children.has_completed then '销号'
            else '核销'
        end as closing_status,
        case
            when closed.closed_by = 'written_off' then '劝返记录核销'
            when children.is_enrolled then '复学在读'
            when children.is_exempt then '延缓或免于入学'
            when children.has_completed then '已毕业'
            when children.is_confirmed_by_region and not children.is_confirmed_by_township
                then '区域学籍比对：在他县就读（见 fct_whereabouts）'
            when children.is_confirmed_elsewhere then '在外就读（已核实，见 fct_whereabouts）'
            when children.is_confirmed_gone then '去向核实：死亡或迁出（见 fct_whereabouts）'
            when children.is_hukou_deregistered then '户籍' || children.hukou_status
            when not children.in_cohort then '超出义务教育年龄'
            else '不再属本县控辍对象'
        end as closing_reason
    from closed
    left join children
        on closed.closed_term_id = children.term_id
        and closed.child_key = children.child_key
        and closed.closed_by = 'clear'
),

final as (
    select
        md5(opened.child_key || '|' || opened.opened_term_id) as case_id,
        opened.child_key,
        opened.episode_no,
        opened.opened_term_id,
        opened.opened_on,
        found_terms.found_terms,
        found_terms.last_found_term_id,
        closing_state.closed_term_id,
        closing_state.closed_on,
        closing_state.closing_status,
        closing_state.closing_reason
    from opened
    inner join found_terms
        on opened.child_key = found_terms.child_key
        and opened.episode_no = found_terms.episode_no
    left join closing_state
        on opened.child_key = closing_state.child_key
        and opened.episode_no = closing_state.episode_no
)

select * from final
