-- One row per usable admission: age at admission and the grouped demographic attributes.
with

admissions as (

    select * from {{ ref('int_admissions__checked') }}

),

patients as (

    select * from {{ ref('int_patients__checked') }}

),

ethnicity_groups as (

    select * from {{ ref('seed_ethnicity_groups') }}

),

usable_admissions as (

    select *

    from admissions

    where exclusion_reason is null

),

with_patient as (

    select
        usable_admissions.*,
        patients.gender,
        patients.dob,
        {{ age_in_years('patients.dob', 'usable_admissions.admittime') }} as raw_age

    from usable_admissions

    inner join patients
        on usable_admissions.subject_id = patients.subject_id
        and patients.exclusion_reason is null

),

top_coded as (

    select
        *,
        -- MIMIC-III sets the date of birth of patients over 89 to 300 years before their first
        -- admission, so every age above 89 is reported as 90.
        least(raw_age, 90) as age

    from with_patient

),

grouped as (

    select
        top_coded.subject_id,
        top_coded.hadm_id,
        top_coded.admittime,
        top_coded.raw_age,
        top_coded.age,
        case when top_coded.age >= 90 then 1 else 0 end as age_top_coded,
        case
            when top_coded.age < 18 then '0-17'
            when top_coded.age < 45 then '18-44'
            when top_coded.age < 65 then '45-64'
            when top_coded.age < 80 then '65-79'
            else '80+'
        end as age_band,
        top_coded.gender,
        top_coded.ethnicity,
        -- An ethnicity missing from the seed stays null here, and the mart's tests fail on it.
        case
            when top_coded.ethnicity is null then 'UNKNOWN'
            else ethnicity_groups.ethnicity_group
        end as ethnicity_group,
        top_coded.insurance,
        case
            when top_coded.language is null then 'UNKNOWN'
            when top_coded.language in (
                {%- for language in var('kept_languages') %}'{{ language }}'{{ ", " if not loop.last }}{% endfor -%}
            ) then top_coded.language
            else 'OTHER'
        end as language,
        coalesce(top_coded.marital_status, 'UNKNOWN') as marital_status

    from top_coded

    left join ethnicity_groups
        on top_coded.ethnicity = ethnicity_groups.ethnicity

)

select * from grouped
