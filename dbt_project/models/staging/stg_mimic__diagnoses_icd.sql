with

source as (

    select * from {{ source('mimic', 'diagnoses_icd') }}

),

renamed as (

    select
        -- ids
        row_id::integer as row_id,
        subject_id::integer as subject_id,
        hadm_id::integer as hadm_id,

        -- diagnosis
        seq_num::integer as seq_num,
        -- Codes are dot-less text; leading zeros matter (0389 is not 389).
        upper({{ clean_text('icd9_code::varchar') }}) as icd9_code

    from source

)

select * from renamed
