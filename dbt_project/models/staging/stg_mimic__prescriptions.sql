{{ config(enabled=not is_generation_build()) }}

with

source as (

    select * from {{ source('mimic', 'prescriptions') }}

),

renamed as (

    select
        -- ids
        row_id::integer as row_id,
        subject_id::integer as subject_id,
        hadm_id::integer as hadm_id,
        icustay_id::integer as icustay_id,

        -- timestamps
        startdate::timestamp as startdate,
        enddate::timestamp as enddate,

        -- drug
        {{ clean_text('drug_type') }} as drug_type,
        {{ clean_text('drug') }} as drug,
        {{ clean_text('drug_name_poe') }} as drug_name_poe,
        {{ clean_text('drug_name_generic') }} as drug_name_generic,
        {{ clean_text('formulary_drug_cd') }} as formulary_drug_cd,
        {{ clean_text('gsn::varchar') }} as gsn,
        {{ clean_text('ndc::varchar') }} as ndc,
        {{ clean_text('prod_strength') }} as prod_strength,

        -- dose, as text because MIMIC-III stores ranges such as '1-2'
        {{ clean_text('dose_val_rx::varchar') }} as dose_val_rx,
        {{ clean_text('dose_unit_rx') }} as dose_unit_rx,
        {{ clean_text('form_val_disp::varchar') }} as form_val_disp,
        {{ clean_text('form_unit_disp') }} as form_unit_disp,
        {{ clean_text('route') }} as route

    from source

)

select * from renamed
