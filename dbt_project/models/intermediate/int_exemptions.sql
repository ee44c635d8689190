-- 缓免学 (SPEC §3): one row per term and county-responsibility child of the compulsory
-- cohort who is exempt (学籍 延缓入学/免于入学, not enrolled, not completed), with whether
-- the bureau's approval covers the term: an approval of the same status whose 审批日期 <=
-- the census date <= its end (有效期至, or the 31 August ending its school year).
with children as (
    select * from {{ ref('int_child_terms') }}
),

registrations as (
    select * from {{ ref('int_registrations') }}
),

approvals as (
    select * from {{ ref('stg_huanmian__exemption_approvals') }}
),

terms as (
    select * from {{ ref('int_terms') }}
),

exempt_children as (
    select term_id, child_key, home_township_code
    from children
    where is_county_responsibility
        and in_cohort
        and is_exempt
        and not is_enrolled
        and not has_completed
),

exempt_statuses as (
    select distinct term_id, child_key, registry_status as exemption_status
    from registrations
    where registry_status_code in ('deferred', 'exempted')
),

covering_approvals as (
    select
        exempt_statuses.term_id,
        exempt_statuses.child_key,
        exempt_statuses.exemption_status,
        max(approvals.effective_until) as approval_valid_until
    from exempt_statuses
    inner join terms
        on exempt_statuses.term_id = terms.term_id
    inner join approvals
        on exempt_statuses.term_id = approvals.term_id
        and exempt_statuses.child_key = approvals.child_key
        and exempt_statuses.exemption_status = approvals.approval_type
    where approvals.approved_on <= terms.census_date
        and terms.census_date <= approvals.effective_until
    group by exempt_statuses.term_id, exempt_statuses.child_key, exempt_statuses.exemption_status
),

statuses as (
    select
        exempt_statuses.term_id,
        exempt_statuses.child_key,
        -- a covered status first (a child with both is named by the one approved)
        (array_agg(
            exempt_statuses.exemption_status
            order by covering_approvals.child_key is null, exempt_statuses.exemption_status
        ))[1] as exemption_status,
        bool_or(covering_approvals.child_key is not null) as is_approved,
        max(covering_approvals.approval_valid_until) as approval_valid_until
    from exempt_statuses
    left join covering_approvals
        on exempt_statuses.term_id = covering_approvals.term_id
        and exempt_statuses.child_key = covering_approvals.child_key
        and exempt_statuses.exemption_status = covering_approvals.exemption_status
    group by exempt_statuses.term_id, exempt_statuses.child_key
),

final as (
    select
        exempt_children.term_id,
        exempt_children.child_key,
        statuses.exemption_status,
        statuses.is_approved,
        statuses.approval_valid_until,
        exempt_children.home_township_code as township_code
    from exempt_children
    inner join statuses
        on exempt_children.term_id = statuses.term_id
        and exempt_children.child_key = statuses.child_key
)

select * from final
