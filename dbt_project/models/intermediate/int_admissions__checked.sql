-- Every staged admission with the reason it cannot be used, or null when it can.
with

admissions as (

    select * from {{ ref('stg_mimic__admissions') }}

),

patients as (

    select * from {{ ref('int_patients__checked') }}

),

usable_patients as (

    select distinct subject_id

    from patients

    where exclusion_reason is null

),

numbered as (

    select
        *,
        {{ exact_copy_number() }} as copy_number

    from admissions

),

checked as (

    select
        numbered.* exclude (copy_number),
        case
            when numbered.copy_number > 1 then 'exact duplicate row'
            when numbered.hadm_id is null then 'missing hadm_id'
            when numbered.admittime is null or numbered.dischtime is null then 'missing admission or discharge time'
            when numbered.dischtime < numbered.admittime then 'discharge before admission'
            when usable_patients.subject_id is null then 'patient excluded or not found'
        end as exclusion_reason

    from numbered

    left join usable_patients
        on numbered.subject_id = usable_patients.subject_id

)

select * from checked
