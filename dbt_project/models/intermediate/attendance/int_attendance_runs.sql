-- Per student, school and term: day counts and unexcused runs. A run is a stretch of
-- consecutive reported days that are all unexcused; the current run is the one that
-- reaches the school's last reported day.
with grid as (
    select * from {{ ref('int_attendance_grid') }}
),

numbered as (
    select
        *,
        count(*) filter (where attendance_kind <> 'unexcused') over (
            partition by term_id, school_code, student_key
            order by day
            rows between unbounded preceding and current row
        ) as run_group
    from grid
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
        (array_agg(run_length order by run_group desc))[1] as current_unexcused_run
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
    from grid
    group by term_id, school_code, student_key
),

final as (
    select
        day_counts.*,
        run_summary.longest_unexcused_run,
        run_summary.current_unexcused_run
    from day_counts
    inner join run_summary
        using (term_id, school_code, student_key)
)

select * from final
