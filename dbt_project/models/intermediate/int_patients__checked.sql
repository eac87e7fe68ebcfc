-- Every staged patient with the reason it cannot be used, or null when it can.
with

patients as (

    select * from {{ ref('stg_mimic__patients') }}

),

numbered as (

    select
        *,
        {{ exact_copy_number() }} as copy_number

    from patients

),

checked as (

    select
        * exclude (copy_number),
        case
            when copy_number > 1 then 'exact duplicate row'
            when subject_id is null then 'missing subject_id'
            when dob is null then 'missing date of birth'
        end as exclusion_reason

    from numbered

)

select * from checked
