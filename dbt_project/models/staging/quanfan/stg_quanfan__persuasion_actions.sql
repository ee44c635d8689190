with delivered as (
    {{ current_rows('quanfan', 'quanfan') }}
),

final as (
    select
        term_id,
        {{ child_key('id_number') }} as child_key,
        action_on::date as action_on,
        action_method,
        action_result,
        dropout_reason,
        responsible_person,
        township_code
    from delivered
)

select * from final
