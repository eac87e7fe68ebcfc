-- ADMISSIONS.ETHNICITY values that seed_ethnicity_groups does not map. The singular test
-- assert_every_ethnicity_mapped fails while this model has rows.
with

admissions as (

    select * from {{ ref('int_admissions__checked') }}

),

ethnicity_groups as (

    select * from {{ ref('seed_ethnicity_groups') }}

),

unmapped as (

    select
        admissions.ethnicity,
        count(*) as admission_count

    from admissions

    anti join ethnicity_groups
        on admissions.ethnicity = ethnicity_groups.ethnicity

    where admissions.ethnicity is not null

    group by admissions.ethnicity

)

select * from unmapped
