with delivered as (
    {{ current_rows('sifa', 'sifa') }}
),

final as (
    select
        term_id,
        {{ child_key('id_number') }} as child_key,
        {{ birth_date_from_id('id_number') }} as birth_date,
        relationship,
        sentence_ends_on::date as sentence_ends_on
    from delivered
)

select * from final
