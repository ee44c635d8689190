-- 适龄失学: a county-responsibility child of compulsory age with no 在读/休学 学籍,
-- not exempt (延缓/免于入学), not graduated from grade 9 (小学毕业 is not completion) and
-- not confirmed as schooled elsewhere (去向核实 县外就读/出国出境 this school year).
with children as (
    select * from {{ ref('int_child_terms') }}
),

registrations as (
    select * from {{ ref('int_registrations') }}
),

reasons as (
    select * from {{ ref('out_of_school_reasons') }}
),

registry_statuses as (
    select
        term_id,
        child_key,
        string_agg(distinct registry_status, '、') as statuses,
        bool_or(registry_status_code = 'dropped_out') as has_dropout,
        bool_or(registry_status_code = 'graduated' and grade < 9) as has_primary_graduation,
        bool_or(registry_status_code = 'transferred_out') as has_transfer_out
    from registrations
    group by term_id, child_key
),

-- SPEC §3 says who is out of school; the reason says why, the first that applies.
reasoned as (
    select
        children.*,
        registry_statuses.statuses,
        case
            when children.hukou_status = '失踪' then 'missing_person'
            when registry_statuses.has_dropout then 'registry_dropout'
            when registry_statuses.has_primary_graduation then 'primary_graduate_not_continued'
            when registry_statuses.has_transfer_out then 'transferred_out_unplaced'
            when registry_statuses.statuses is not null then 'registry_other'
            else 'never_enrolled'
        end as reason_code
    from children
    left join registry_statuses
        on children.term_id = registry_statuses.term_id
        and children.child_key = registry_statuses.child_key
    where children.is_county_responsibility
        and children.in_cohort
        and not children.is_enrolled
        and not children.is_exempt
        and not children.has_completed
        -- schooled elsewhere, confirmed by the township (去向核实): 在外就读（已核实）
        and not children.is_confirmed_elsewhere
),

final as (
    select
        reasoned.term_id,
        'out_of_school' as finding_type,
        reasoned.child_key,
        null::text as school_code,
        reasoned.home_township_code as township_code,
        jsonb_build_object(
            'summary', '适龄儿童未在校：' || case
                when reasoned.statuses is null then '学籍系统中无该儿童学籍'
                else '学籍状态为' || reasoned.statuses
            end,
            'feeds', jsonb_build_array('户籍', '学籍'),
            'hukou_status', reasoned.hukou_status,
            'registry_statuses', reasoned.statuses,
            'birth_date', reasoned.birth_date,
            'reason_code', reasoned.reason_code,
            'reason_label', reasons.reason_label
        ) as details
    from reasoned
    left join reasons
        on reasoned.reason_code = reasons.reason_code
)

select * from final
