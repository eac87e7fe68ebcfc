{{ config(enabled=not is_generation_build()) }}

with

source as (

    select * from {{ source('mimic', 'procedures_icd') }}

),

renamed as (

    select
        row_id::integer as row_id,
        subject_id::integer as subject_id,
        hadm_id::integer as hadm_id,
        seq_num::integer as seq_num,
        upper({{ clean_text('icd9_code::varchar') }}) as icd9_code

    from source

)

select * from renamed
