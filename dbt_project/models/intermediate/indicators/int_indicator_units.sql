-- Child x term x reporting unit: which county, township and school figures a child
-- counts in. The county is the 县 in the term's regions feed; the township is the
-- child's home township (户籍, or the school's for children without county 户籍); the
-- school is the child's county school (在读 over 休学 over the rest).
with children as (
    select * from {{ ref('int_child_terms') }}
),

registrations as (
    select * from {{ ref('int_registrations') }}
),

counties as (
    {{ county_codes() }}
),

county_schools as (
    select distinct on (term_id, child_key) term_id, child_key, school_code, school_township_code
    from registrations
    where is_county_school
    order by
        term_id,
        child_key,
        registry_rank,
        school_code
),

final as (
    select children.term_id, children.child_key, 'county' as unit_level, coalesce(counties.county_code, 'county') as unit_code
    from children
    left join counties on children.term_id = counties.term_id
    union all
    select term_id, child_key, 'township', home_township_code
    from children
    where home_township_code is not null
    union all
    select term_id, child_key, 'school', school_code
    from county_schools
)

select * from final
