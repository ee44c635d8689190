-- 劝返 actions across all terms, each once. Townships often re-send their whole ledger
-- every term, so an action delivered again in a later term is the same action; it
-- belongs to the first term that delivered it.
with actions as (
    select * from {{ ref('stg_quanfan__persuasion_actions') }}
),

code_values as (
    select * from {{ ref('code_values') }}
),

deduplicated as (
    select distinct on (child_key, action_on, action_method, action_result, dropout_reason, responsible_key)
        term_id,
        child_key,
        action_on,
        action_method,
        action_method_code,
        action_result,
        action_result_code,
        dropout_reason,
        dropout_reason_code,
        responsible_key,
        township_code
    from actions
    order by child_key, action_on, action_method, action_result, dropout_reason, responsible_key, term_id
),

final as (
    select
        md5(concat_ws(
            '|', deduplicated.child_key, deduplicated.action_on, deduplicated.action_method,
            deduplicated.action_result, deduplicated.dropout_reason, deduplicated.responsible_key
        )) as action_id,
        deduplicated.*,
        methods.detail::int as stage,
        results.detail as resulting_status
    from deduplicated
    inner join code_values as methods
        on methods.code_list = 'action_method' and deduplicated.action_method = methods.value
    inner join code_values as results
        on results.code_list = 'action_result' and deduplicated.action_result = results.value
)

select * from final
