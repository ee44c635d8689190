{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='term_id',
        on_schema_change='fail',
        pre_hook="{{ fold_pre_hook(ref('int_attendance_grid_versions')) }}",
        post_hook="{{ slice_post_hook(ref('int_attendance_grid_versions')) }}",
    )
}}
-- Per student, school and term: day counts and unexcused runs. A run is a stretch of
-- consecutive reported days that are all unexcused; the current run is the one that
-- reaches the school's last reported day. A new week is folded onto the stored
-- summary; other changes rebuild the term (macros/attendance_slices.sql).
{%- if execute and is_incremental() %}
    {%- set modes = run_query(fold_term_modes(ref('int_attendance_grid_versions'))) %}
    {%- for term_id, is_extended in modes.rows %}
        {%- do log('kcbx: int_attendance_runs ' ~ ('folds the new days onto' if is_extended else 'rebuilds')
            ~ ' term ' ~ term_id, info=true) %}
    {%- endfor %}
{%- endif %}
with grid as (
    select * from {{ ref('int_attendance_grid') }}
),

{% if is_incremental() %}
modes as (
    {{ fold_term_modes(ref('int_attendance_grid_versions')) }}
),

changed_days as (
    {{ changed_days(ref('int_attendance_grid_versions')) }}
),

-- one reference to grid: a second one would make Postgres materialise the whole term
segment as (
    select grid.*
    from grid
    inner join modes
        on grid.term_id = modes.term_id
    where not modes.is_extended
        or (grid.term_id, grid.day) in (select changed_days.term_id, changed_days.day from changed_days)
),

previous as (
    select summarised.*
    from {{ this }} as summarised
    inner join modes
        on summarised.term_id = modes.term_id
        and modes.is_extended
),
{% else %}
segment as (
    select * from grid
),
{% endif %}

numbered as (
    select
        *,
        count(*) filter (where attendance_kind <> 'unexcused') over (
            partition by term_id, school_code, student_key
            order by day
            rows between unbounded preceding and current row
        ) as run_group
    from segment
),

runs as (
    select
        term_id,
        school_code,
        student_key,
        run_group,
        count(*) filter (where attendance_kind = 'unexcused') as run_length
    from numbered
    group by term_id, school_code, student_key, run_group
),

run_summary as (
    select
        term_id,
        school_code,
        student_key,
        max(run_length) as longest_unexcused_run,
        (array_agg(run_length order by run_group desc))[1] as current_unexcused_run,
        -- the run the segment starts with: it continues a run the stored summary ends with
        coalesce(max(run_length) filter (where run_group = 0), 0) as leading_unexcused_run
    from runs
    group by term_id, school_code, student_key
),

day_counts as (
    select
        term_id,
        school_code,
        student_key,
        count(*) as reported_days,
        count(*) filter (where attendance_kind = 'present') as present_days,
        count(*) filter (where attendance_kind = 'excused') as excused_days,
        count(*) filter (where attendance_kind = 'unexcused') as unexcused_days,
        max(day) filter (where attendance_kind = 'present') as last_present_on,
        max(day) as last_reported_on
    from segment
    group by term_id, school_code, student_key
),

segment_summary as (
    select
        day_counts.*,
        run_summary.longest_unexcused_run,
        run_summary.current_unexcused_run,
        run_summary.leading_unexcused_run
    from day_counts
    inner join run_summary
        using (term_id, school_code, student_key)
),

{% if is_incremental() %}
final as (
    select
        term_id,
        school_code,
        student_key,
        coalesce(previous.reported_days, 0) + coalesce(segment_summary.reported_days, 0) as reported_days,
        coalesce(previous.present_days, 0) + coalesce(segment_summary.present_days, 0) as present_days,
        coalesce(previous.excused_days, 0) + coalesce(segment_summary.excused_days, 0) as excused_days,
        coalesce(previous.unexcused_days, 0) + coalesce(segment_summary.unexcused_days, 0) as unexcused_days,
        -- greatest() skips nulls: a side that is missing does not count
        greatest(previous.last_present_on, segment_summary.last_present_on) as last_present_on,
        greatest(previous.last_reported_on, segment_summary.last_reported_on) as last_reported_on,
        greatest(
            previous.longest_unexcused_run,
            segment_summary.longest_unexcused_run,
            previous.current_unexcused_run + segment_summary.leading_unexcused_run
        ) as longest_unexcused_run,
        case
            when segment_summary.student_key is null then previous.current_unexcused_run
            when segment_summary.leading_unexcused_run = segment_summary.reported_days
                then coalesce(previous.current_unexcused_run, 0) + segment_summary.reported_days
            else segment_summary.current_unexcused_run
        end as current_unexcused_run
    from previous
    full outer join segment_summary
        using (term_id, school_code, student_key)
)
{% else %}
final as (
    select
        term_id,
        school_code,
        student_key,
        reported_days,
        present_days,
        excused_days,
        unexcused_days,
        last_present_on,
        last_reported_on,
        longest_unexcused_run,
        current_unexcused_run
    from segment_summary
)
{% endif %}

select * from final
