-- Every data problem found in the source tables: table, reason, how the rows were handled
-- ('excluded' from the marts, or 'kept' and only reported) and the number of rows.
with

details as (

    select * from {{ ref('dq_excluded_row_details') }}

),

unknown_codes as (

    select * from {{ ref('dq_unknown_diagnosis_codes') }}

),

excluded as (

    select
        table_name,
        reason,
        'excluded' as handling,
        count(*) as row_count

    from details

    group by table_name, reason

),

kept as (

    select
        'diagnoses_icd' as table_name,
        'code not in D_ICD_DIAGNOSES' as reason,
        'kept' as handling,
        coalesce(sum(row_count), 0) as row_count

    from unknown_codes

    having count(*) > 0

),

problems as (

    select * from excluded

    union all

    select * from kept

)

select * from problems
