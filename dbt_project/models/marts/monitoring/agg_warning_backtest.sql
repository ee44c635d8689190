-- 预警效果回测 (proof on history): for every past school week whose horizon is in the
-- warehouse, each rule's warnings against what happened next (int_warning_events):
--   rule score    - the early warning (int_warning_scores.is_warned);
--   rule baseline - the plain rule: warning_baseline_days unexcused days in a row;
--   rule none     - no warning: every event is found when the 疑似辍学 rule fires.
-- A child-week counts when the child is not yet in a 疑似辍学 run. Positive: the child
-- had an event in the following horizon_weeks school weeks. precision = warned and
-- positive ÷ warned; recall = warned and positive ÷ positive; lead time: school days
-- from the child's first warning in the horizon_weeks before an event (after its
-- previous event) to the event, 0 for an event nobody warned of. Per group (重点群体,
-- 性别, 学段) with each rate's ratio to the whole county's (the aequitas "disparity").
with scores as (
    select * from {{ ref('int_warning_scores') }}
),

events as (
    select * from {{ ref('int_warning_events') }}
),

horizons as (
    select unnest(array[{{ var('warning_horizons') | join(', ') }}]) as horizon_weeks
),

rules as (
    select * from (
        values
            ('score', '预警评分', 1),
            ('baseline', '连续旷课{{ var("warning_baseline_days") }}天即预警', 2),
            ('none', '不预警（疑似辍学规则触发时才发现）', 3)
    ) as rules (rule, rule_label, rule_order)
),

observed as (
    select max(week_seq) as last_week_seq from scores
),

child_weeks as (
    select scores.*, horizons.horizon_weeks
    from scores
    cross join horizons
    cross join observed
    where not scores.is_in_run
        and scores.week_seq + horizons.horizon_weeks <= observed.last_week_seq
),

-- the child's first event after each week: a join on the child (hashed), not a
-- subquery per child-week
next_events as (
    select scores.week_seq, scores.child_key, min(events.week_seq) as next_event_week_seq
    from scores
    inner join events
        on scores.child_key = events.child_key
        and events.week_seq > scores.week_seq
    group by scores.week_seq, scores.child_key
),

outcomes as (
    select
        child_weeks.*,
        coalesce(next_events.next_event_week_seq <= child_weeks.week_seq + child_weeks.horizon_weeks, false)
            as is_positive
    from child_weeks
    left join next_events
        on child_weeks.child_key = next_events.child_key
        and child_weeks.week_seq = next_events.week_seq
),

-- the child-weeks counted once per combination of what the counts below group and
-- filter by: cells (weeks x groups x flags) to break down by rule and group, not each
-- child-week
outcome_cells as (
    select
        horizon_weeks,
        week_seq,
        sex,
        stage_band,
        priority_groups,
        is_warned,
        is_baseline_warned,
        is_positive,
        count(*) as child_weeks
    from outcomes
    group by horizon_weeks, week_seq, sex, stage_band, priority_groups, is_warned, is_baseline_warned, is_positive
),

judged as (
    select
        outcome_cells.*,
        rules.rule,
        case rules.rule
            when 'score' then outcome_cells.is_warned
            when 'baseline' then outcome_cells.is_baseline_warned
            else false
        end as is_rule_warned
    from outcome_cells
    cross join rules
),

grouped_weeks as (
    select judged.*, grouping.group_kind, grouping.group_value
    from judged
    cross join lateral ({{ backtest_groups('judged') }}) as grouping
),

week_counts as (
    select
        rule,
        horizon_weeks,
        group_kind,
        group_value,
        sum(child_weeks)::bigint as child_weeks,
        coalesce(sum(child_weeks) filter (where is_rule_warned), 0)::bigint as warned_child_weeks,
        coalesce(sum(child_weeks) filter (where is_positive), 0)::bigint as positive_child_weeks,
        coalesce(sum(child_weeks) filter (where is_rule_warned and is_positive), 0)::bigint as true_positives,
        count(distinct week_seq) as weeks_evaluated
    from grouped_weeks
    group by rule, horizon_weeks, group_kind, group_value
),

-- each event's earliest warning in the horizon before it, per rule
event_leads as (
    select
        events.child_key,
        events.event_seq,
        events.week_seq,
        horizons.horizon_weeks,
        rules.rule,
        coalesce(events.event_seq - min(scores.week_end_seq) filter (
            where case rules.rule
                when 'score' then scores.is_warned
                when 'baseline' then scores.is_baseline_warned
                else false
            end
        ), 0) as lead_days
    from events
    cross join horizons
    cross join rules
    left join scores
        on events.child_key = scores.child_key
        and scores.week_seq >= events.week_seq - horizons.horizon_weeks
        and scores.week_seq < events.week_seq
        and scores.week_end_seq > coalesce(events.previous_event_seq, 0)
    group by events.child_key, events.event_seq, events.week_seq, horizons.horizon_weeks, rules.rule
),

-- the child as it was in its last scored week up to the event
event_children as (
    select distinct on (events.child_key, events.event_seq)
        events.child_key,
        events.event_seq,
        scores.sex,
        scores.stage_band,
        scores.priority_groups
    from events
    left join scores
        on events.child_key = scores.child_key
        and scores.week_seq <= events.week_seq
    order by events.child_key, events.event_seq, scores.week_seq desc
),

grouped_leads as (
    select event_leads.*, grouping.group_kind, grouping.group_value
    from event_leads
    inner join event_children
        on event_leads.child_key = event_children.child_key
        and event_leads.event_seq = event_children.event_seq
    cross join lateral ({{ backtest_groups('event_children') }}) as grouping
),

lead_counts as (
    select
        rule,
        horizon_weeks,
        group_kind,
        group_value,
        count(*) as events,
        count(*) filter (where lead_days > 0) as events_warned,
        percentile_cont(0.5) within group (order by lead_days) as median_lead_days,
        percentile_cont(0.5) within group (order by lead_days) filter (where lead_days > 0)
            as median_lead_days_warned
    from grouped_leads
    group by rule, horizon_weeks, group_kind, group_value
),

rates as (
    select
        week_counts.*,
        round(warned_child_weeks::numeric / nullif(child_weeks, 0), 4) as warning_rate,
        round(true_positives::numeric / nullif(warned_child_weeks, 0), 4) as precision,
        round(true_positives::numeric / nullif(positive_child_weeks, 0), 4) as recall
    from week_counts
),

final as (
    select
        rates.rule,
        rules.rule_label,
        rules.rule_order,
        rates.horizon_weeks,
        rates.group_kind,
        rates.group_value,
        rates.weeks_evaluated,
        rates.child_weeks,
        rates.warned_child_weeks,
        rates.positive_child_weeks,
        rates.true_positives,
        rates.warning_rate,
        rates.precision,
        rates.recall,
        coalesce(lead_counts.events, 0) as events,
        coalesce(lead_counts.events_warned, 0) as events_warned,
        lead_counts.median_lead_days,
        lead_counts.median_lead_days_warned,
        round(rates.warning_rate / nullif(county.warning_rate, 0), 2) as warning_rate_ratio,
        round(rates.precision / nullif(county.precision, 0), 2) as precision_ratio,
        round(rates.recall / nullif(county.recall, 0), 2) as recall_ratio
    from rates
    inner join rules
        on rates.rule = rules.rule
    left join rates as county
        on rates.rule = county.rule
        and rates.horizon_weeks = county.horizon_weeks
        and county.group_kind = '全部'
    left join lead_counts
        on rates.rule = lead_counts.rule
        and rates.horizon_weeks = lead_counts.horizon_weeks
        and rates.group_kind = lead_counts.group_kind
        and rates.group_value = lead_counts.group_value
)

select * from final
