with delivered as (
    {{ current_rows('renshe', 'renshe') }}
),

final as (
    select
        term_id,
        {{ child_key('id_number') }} as child_key,
        {{ birth_date_from_id('id_number') }} as birth_date,
        employer,
        found_on::date as found_on,
        work_place
    from delivered
)

select * from final
