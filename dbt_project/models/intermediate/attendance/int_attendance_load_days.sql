{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='append_new_columns',
    )
}}
-- Which school days each attendance file covers: the map from deliveries to the day
-- slices (macros/day_slices/). Each load is read once, when it is new; the
-- BRIN index on raw.kaoqin.load_id keeps that read to the new load's blocks.
with loads as (
    select load_id
    from {{ source('audit', 'load_files') }}
    where feed = 'kaoqin'
        and status = 'loaded'
        {% if is_incremental() %}
        and load_id not in (select distinct mapped.load_id from {{ this }} as mapped)
        {% endif %}
),

final as (
    select
        kaoqin.load_id,
        kaoqin.term_id,
        kaoqin.school_code,
        kaoqin.day::date as day,
        count(*) as records,
        -- per file; int_attendance_school_days counts across files
        count(distinct kaoqin.student_no) as students
    from {{ source('schools', 'kaoqin') }} as kaoqin
    where kaoqin.load_id in (select loads.load_id from loads)
    group by kaoqin.load_id, kaoqin.term_id, kaoqin.school_code, kaoqin.day
)

select * from final
