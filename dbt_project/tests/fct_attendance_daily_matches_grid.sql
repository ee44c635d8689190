-- Checks that, for every day of marts.fct_attendance_daily not yet verified, the fact
-- holds exactly as many rows as the attendance grid it was written from.
-- Why it matters: the fact is never rebuilt whole (full_refresh=false); a day slice
-- written twice (duplicate rows) or cut short (a student without a child) would stay
-- in every later report. Its key is unique by construction - each pair's status on its
-- school's distinct reported days (int_attendance_days, grouped per student, school and
-- day) plus the reported days a pair (int_attendance_pairs, tested unique) has no row
-- for, one child per student (int_student_children, tested) - so counting per day guards
-- the strategy's delete and insert without sorting 5 M keys.
-- How to fix: a build error, not a data problem: rebuild the term's days (delete its
-- rows of intermediate.day_slice_state for fct_attendance_daily and run again) and
-- report the commit.
with unverified as (
    select term_id, day
    from {{ source('day_slices', 'day_slice_state') }}
    where model = 'fct_attendance_daily'
        and verified_at is null
),

fact_days as (
    select term_id, day, count(*) as fact_rows
    from {{ ref('fct_attendance_daily') }}
    -- an array of days lets the fact's BRIN index skip the verified weeks
    where day = any(array(select unverified.day from unverified))
        and (term_id, day) in (select unverified.term_id, unverified.day from unverified)
    group by term_id, day
),

grid_days as (
    select term_id, day, count(*) as grid_rows
    from {{ ref('int_attendance_grid') }}
    where (term_id, day) in (select unverified.term_id, unverified.day from unverified)
    group by term_id, day
),

final as (
    select
        coalesce(fact_days.term_id, grid_days.term_id) as term_id,
        coalesce(fact_days.day, grid_days.day) as day,
        fact_days.fact_rows,
        grid_days.grid_rows
    from fact_days
    full outer join grid_days
        on fact_days.term_id = grid_days.term_id
        and fact_days.day = grid_days.day
    where fact_days.fact_rows is distinct from grid_days.grid_rows
)

select * from final
