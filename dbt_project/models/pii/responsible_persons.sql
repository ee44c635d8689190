-- 劝返责任人: responsible_key to the official's name, for the ledgers and for privileged
-- readers. Marts carry the key only, so that no name leaves pii.
with actions as (
    select * from {{ ref('stg_quanfan__persuasion_actions') }}
),

final as (
    select distinct on (responsible_key)
        responsible_key,
        township_code,
        responsible_person
    from actions
    where responsible_key is not null
    order by responsible_key, term_id desc
)

select * from final
