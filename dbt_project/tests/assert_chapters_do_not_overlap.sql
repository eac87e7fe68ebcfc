-- Fails when a diagnosis row matches more than one ICD-9-CM chapter (a row counts in exactly one).
with

diagnoses as (

    select * from {{ ref('stg_mimic__diagnoses_icd') }}

),

checked as (

    select * from {{ ref('int_diagnoses__checked') }}

),

row_counts as (

    select
        (select count(*) from diagnoses) as staged_rows,
        (select count(*) from checked) as checked_rows

)

select * from row_counts where staged_rows <> checked_rows
