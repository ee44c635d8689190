with delivered as (
    {{ current_rows('jiaoyu', 'xueji') }}
),

final as (
    select
        term_id,
        {{ child_key('id_number', 'student_no') }} as child_key,
        {{ student_key('student_no') }} as student_key,
        id_number is not null as has_id_number,
        coalesce({{ birth_date_from_id('id_number') }}, birth_date::date) as birth_date,
        coalesce({{ sex_from_id('id_number') }}, sex) as sex,
        id_conflict,
        school_code,
        grade::int as grade,
        class_name,
        registry_status,
        {{ code_of('registry_status', 'registry_status') }} as registry_status_code,
        study_mode,
        {{ code_of('study_mode', 'study_mode') }} as study_mode_code,
        status_changed_on::date as status_changed_on,
        load_id,
        source_row
    from delivered
)

select * from final
