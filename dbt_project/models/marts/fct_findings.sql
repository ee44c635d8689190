-- 四查三比对 findings, one row per finding: every rule of SPEC §3 in one table.
with unioned as (
    {% for finding in [
        'out_of_school', 'phantom_enrolment', 'suspected_dropout', 'unregistered_attendance',
        'deregistered_enrolled', 'duplicate_registration', 'poverty_dropout',
        'disabled_unplaced', 'child_labour', 'school_missing_attendance'
    ] %}
    select term_id, finding_type, child_key, school_code, township_code, details
    from {{ ref('int_findings__' ~ finding) }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

labels as (
    select * from {{ ref('finding_types') }}
),

final as (
    select
        md5(concat_ws('|', unioned.term_id, unioned.finding_type, unioned.child_key, unioned.school_code))
            as finding_id,
        unioned.term_id,
        unioned.finding_type,
        labels.finding_label,
        unioned.child_key,
        unioned.school_code,
        unioned.township_code,
        unioned.details
    from unioned
    inner join labels
        on unioned.finding_type = labels.finding_type
)

select * from final
