{{ config(enabled=not is_generation_build()) }}

with

source as (

    select * from {{ source('mimic', 'd_icd_procedures') }}

),

renamed as (

    select
        row_id::integer as row_id,
        upper({{ clean_text('icd9_code::varchar') }}) as icd9_code,
        {{ clean_text('short_title') }} as short_title,
        {{ clean_text('long_title') }} as long_title

    from source

)

select * from renamed
