with delivered as (
    {{ current_rows('quanfan', 'quanfan') }}
),

final as (
    select
        term_id,
        {{ child_key('id_number') }} as child_key,
        action_on::date as action_on,
        action_method,
        {{ code_of('action_method', 'action_method') }} as action_method_code,
        action_result,
        {{ code_of('action_result', 'action_result') }} as action_result_code,
        dropout_reason,
        {{ code_of('dropout_reason', 'dropout_reason') }} as dropout_reason_code,
        responsible_person,
        -- Names stay out of the warehouse's tables below pii: marts carry this key (an
        -- HMAC the loader computed, like child_key) and pii.responsible_persons maps it
        -- back to the official's name.
        {{ responsible_key('township_code', 'responsible_person') }} as responsible_key,
        township_code
    from delivered
)

select * from final
