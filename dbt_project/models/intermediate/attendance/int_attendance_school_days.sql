-- Per term, school and delivered day: how many roll calls and how many distinct students
-- the current files hold. The quality checks on the big feed (repeated roll calls, roll
-- calls off the calendar, unknown schools) read this instead of 5 M staging rows. A day
-- covered by one file takes that file's counts, made once when the file was new; a day
-- covered by several files, or mapped before files were counted, is counted here.
with current_loads as (
    {{ current_loads('kaoqin') }}
),

covering as (
    select
        load_days.term_id,
        load_days.school_code,
        load_days.day,
        count(*) as files,
        sum(load_days.records) as roll_calls,
        sum(load_days.students) as students,
        count(*) > 1 or bool_or(load_days.students is null) as needs_count
    from {{ ref('int_attendance_load_days') }} as load_days
    inner join current_loads on load_days.load_id = current_loads.load_id
    group by load_days.term_id, load_days.school_code, load_days.day
),

counted as (
    select
        records.term_id,
        records.school_code,
        records.day,
        count(distinct records.student_key) as students
    from {{ ref('stg_schools__attendance_records') }} as records
    inner join covering
        on records.term_id = covering.term_id
        and records.school_code = covering.school_code
        and records.day = covering.day
        and covering.needs_count
    group by records.term_id, records.school_code, records.day
),

final as (
    select
        covering.term_id,
        covering.school_code,
        covering.day,
        covering.files,
        covering.roll_calls,
        coalesce(counted.students, covering.students) as students
    from covering
    left join counted
        on covering.term_id = counted.term_id
        and covering.school_code = counted.school_code
        and covering.day = counted.day
)

select * from final
