-- Fails when an admission that no data check excluded is missing from mm_admission_features,
-- so no row is lost between the checks and the mart without a reason in dq_excluded_rows.
with

admissions as (

    select * from {{ ref('int_admissions__checked') }}

),

features as (

    select * from {{ ref('mm_admission_features') }}

),

missing as (

    select admissions.hadm_id, admissions.subject_id

    from admissions

    anti join features
        on admissions.hadm_id = features.hadm_id

    where admissions.exclusion_reason is null

)

select * from missing
