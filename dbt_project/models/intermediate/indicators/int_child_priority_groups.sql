-- Child x term x 重点群体: the priority groups 控辍保学 reports break down by. Every
-- child is in 全部; a child can be in several groups.
with children as (
    select * from {{ ref('int_child_terms') }}
),

groups as (
    select
        term_id,
        child_key,
        array_remove(array[
            '全部',
            case when monitoring_type is not null then '脱贫家庭' end,
            case when disability_category is not null then '残疾儿童' end,
            case
                when is_orphan or is_de_facto_unsupported or is_in_hardship or is_dibao or is_tekun
                    then '困境儿童'
            end,
            case when is_left_behind then '留守儿童' end,
            case when is_prisoners_child then '服刑人员子女' end,
            case when is_migrant then '随迁子女' end
        ], null) as priority_groups
    from children
),

final as (
    select groups.term_id, groups.child_key, priority_group
    from groups
    cross join lateral unnest(groups.priority_groups) as priority_group
)

select * from final
