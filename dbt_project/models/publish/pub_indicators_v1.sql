-- 向区域发布：学期指标（冻结）. The county's frozen term figures, county, township and
-- school rows and every 重点群体, with its case totals: what the region's 通报 ranks.
with frozen as (
    select * from {{ ref('frozen_term_indicators') }}
),

final as (
    select
        term_id,
        unit_level,
        unit_code,
        township_code,
        priority_group,
        cohort_children::bigint as cohort_children,
        enrolled_children::bigint as enrolled_children,
        exempt_children::bigint as exempt_children,
        completed_children::bigint as completed_children,
        out_of_school_children::bigint as out_of_school_children,
        on_roll_children::bigint as on_roll_children,
        dropout_children::bigint as dropout_children,
        grade9_age_children::bigint as grade9_age_children,
        grade9_age_retained::bigint as grade9_age_retained,
        history_grade1_enrolled::bigint as history_grade1_enrolled,
        enrolment_rate::numeric as enrolment_rate,
        dropout_rate::numeric as dropout_rate,
        consolidation_rate::numeric as consolidation_rate,
        consolidation_method::text as consolidation_method,
        open_cases::bigint as open_cases,
        closed_cases::bigint as closed_cases,
        action_overdue_cases::bigint as action_overdue_cases,
        escalation_overdue_cases::bigint as escalation_overdue_cases
    from frozen
)

select * from final
