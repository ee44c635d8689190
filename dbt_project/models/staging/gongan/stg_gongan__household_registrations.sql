with delivered as (
    {{ current_rows('gongan', 'huji') }}
),

final as (
    select
        term_id,
        {{ child_key('id_number') }} as child_key,
        {{ birth_date_from_id('id_number') }} as birth_date,
        {{ sex_from_id('id_number') }} as sex,
        id_conflict,
        hukou_region_code,
        left(hukou_region_code, 9) || '000' as hukou_township_code,
        person_status,
        {{ code_of('person_status', 'person_status') }} as person_status_code,
        status_changed_on::date as status_changed_on,
        load_id,
        source_row
    from delivered
)

select * from final
