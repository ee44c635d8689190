with delivered as (
    {{ current_rows('xiangcun', 'fupin') }}
),

final as (
    select
        term_id,
        {{ child_key('id_number') }} as child_key,
        {{ birth_date_from_id('id_number') }} as birth_date,
        monitoring_type,
        {{ code_of('monitoring_type', 'monitoring_type') }} as monitoring_type_code,
        region_code,
        recognised_on::date as recognised_on
    from delivered
)

select * from final
