{{ config(post_hook="{{ township_row_security() }}", grants={'+select': ['kcbx_township']}) }}
-- 流入流出动态监测: children per term, township, school, 学段, 重点群体 and 学籍异动 type
-- (转入, 转出, 休学, 复学, 辍学, 死亡) from the term's xueji_changes delivery, with the
-- 防返贫监测 children among them per monitoring type (monitored_1..4: 脱贫户, 脱贫不稳定户,
-- 边缘易致贫户, 突发严重困难户, the feed's codes in kcbx/feeds.yml). A 转入 counts
-- at the school it went to, every other change at the school it left. 脱贫家庭 (防返贫
-- 监测 children) is one of the groups, as the seeds require it broken out.
with changes as (
    select * from {{ ref('fct_registry_change') }}
    where change_type in ('转入', '转出', '休学', '复学', '辍学', '死亡')
),

enrolment as (
    select * from {{ ref('fct_enrolment') }}
),

groups as (
    select * from {{ ref('int_child_priority_groups') }}
),

children as (
    select * from {{ ref('int_child_terms') }}
),

schools as (
    select * from {{ ref('dim_school') }}
),

located as (
    select
        term_id,
        child_key,
        change_type,
        case
            when change_type = '转入' then coalesce(to_school_code, from_school_code)
            else coalesce(from_school_code, to_school_code)
        end as school_code
    from changes
),

grouped as (
    select
        located.term_id,
        schools.township_code,
        located.school_code,
        enrolment.stage,
        coalesce(groups.priority_group, '全部') as priority_group,
        located.change_type,
        located.child_key,
        children.monitoring_type
    from located
    left join schools
        on located.school_code = schools.school_code
    left join enrolment
        on located.term_id = enrolment.term_id
        and located.child_key = enrolment.child_key
    left join groups
        on located.term_id = groups.term_id
        and located.child_key = groups.child_key
    left join children
        on located.term_id = children.term_id
        and located.child_key = children.child_key
),

final as (
    select
        term_id,
        township_code,
        school_code,
        stage,
        priority_group,
        change_type,
        count(distinct child_key) as children,
        count(*) as changes,
        -- 防返贫监测 children among them, in total and per monitoring type
        count(distinct child_key) filter (where monitoring_type is not null) as poverty_monitored_children,
        {%- for kind in ['脱贫户', '脱贫不稳定户', '边缘易致贫户', '突发严重困难户'] %}
        count(distinct child_key) filter (where monitoring_type = '{{ kind }}') as monitored_{{ loop.index }}{{ "," if not loop.last }}
        {%- endfor %}
    from grouped
    group by term_id, township_code, school_code, stage, priority_group, change_type
)

select * from final
