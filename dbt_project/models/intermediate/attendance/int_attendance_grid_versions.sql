-- (term, day) -> the version of that day's grid rows: the day's roll-call version and
-- the term's list of (student, school) pairs and which child each student is. A new student, a corrected registry or
-- a re-sent file changes the versions of exactly the days whose grid rows it changes.
with day_versions as (
    select * from {{ ref('int_attendance_day_versions') }}
),

pairs as (
    select * from {{ ref('int_attendance_pairs') }}
),

students as (
    select * from {{ ref('int_student_children') }}
),

term_students as (
    -- Which child each 学籍号 is: fct_attendance_daily carries child_key.
    select term_id, md5(string_agg(student_key || ':' || coalesce(child_key, ''), ',' order by student_key)) as students_hash
    from students
    group by term_id
),

term_pairs as (
    select
        term_id,
        md5(string_agg(
            school_code || ':' || student_key || ':' || is_home_taught::text, ',' order by school_code, student_key
        )) as pairs_hash
    from pairs
    group by term_id
),

final as (
    select
        day_versions.term_id,
        day_versions.day,
        md5(concat_ws('|', day_versions.version, term_pairs.pairs_hash, term_students.students_hash)) as version
    from day_versions
    left join term_pairs on day_versions.term_id = term_pairs.term_id
    left join term_students on day_versions.term_id = term_students.term_id
)

select * from final
