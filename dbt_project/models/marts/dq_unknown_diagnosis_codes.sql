-- Codes of usable DIAGNOSES_ICD rows that are missing from D_ICD_DIAGNOSES. These rows are kept:
-- they still set comorbidity flags and count in their ICD-9-CM chapter.
with

diagnoses as (

    select * from {{ ref('int_diagnoses__checked') }}

),

unknown_codes as (

    select
        icd9_code,
        count(*) as row_count,
        count(distinct hadm_id) as admission_count

    from diagnoses

    where exclusion_reason is null
      and not in_dictionary

    group by icd9_code

)

select * from unknown_codes
