-- One row per source row that the mart does not use, with the reason.
with

patients as (

    select * from {{ ref('int_patients__checked') }}

),

admissions as (

    select * from {{ ref('int_admissions__checked') }}

),

diagnoses as (

    select * from {{ ref('int_diagnoses__checked') }}

),

icustays as (

    select * from {{ ref('int_icustays__checked') }}

),

excluded as (

    select 'patients' as table_name, row_id, subject_id, null::integer as hadm_id, exclusion_reason as reason
    from patients
    where exclusion_reason is not null

    union all

    select 'admissions' as table_name, row_id, subject_id, hadm_id, exclusion_reason as reason
    from admissions
    where exclusion_reason is not null

    union all

    select 'diagnoses_icd' as table_name, row_id, subject_id, hadm_id, exclusion_reason as reason
    from diagnoses
    where exclusion_reason is not null

    union all

    select 'icustays' as table_name, row_id, subject_id, hadm_id, exclusion_reason as reason
    from icustays
    where exclusion_reason is not null

)

select * from excluded
