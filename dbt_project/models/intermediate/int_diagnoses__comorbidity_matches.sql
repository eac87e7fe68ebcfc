-- One row per usable diagnosis and comorbidity flag whose code list matches its ICD-9 code
-- (Elixhauser and Charlson, Quan et al. 2005 ICD-9-CM coding algorithms).
with

diagnoses as (

    select * from {{ ref('int_diagnoses__checked') }}

),

elixhauser_codes as (

    select * from {{ ref('seed_elixhauser_quan_icd9') }}

),

charlson_codes as (

    select * from {{ ref('seed_charlson_quan_icd9') }}

),

code_lists as (

    select 'elixhauser' as code_list, flag, code_from, code_to from elixhauser_codes

    union all

    select 'charlson' as code_list, flag, code_from, code_to from charlson_codes

),

flag_setting_diagnoses as (

    select *

    from diagnoses

    where exclusion_reason is null
    {%- if var('skip_first_diagnosis', false) %}
      -- skip_first_diagnosis: the principal diagnosis sets no flag (mimic-code's convention).
      and coalesce(seq_num, 0) <> 1
    {%- endif %}

),

matched as (

    select distinct
        flag_setting_diagnoses.subject_id,
        flag_setting_diagnoses.hadm_id,
        flag_setting_diagnoses.seq_num,
        flag_setting_diagnoses.icd9_code,
        code_lists.code_list,
        code_lists.flag

    from flag_setting_diagnoses

    inner join code_lists
        on {{ code_in_range('flag_setting_diagnoses.icd9_code', 'code_lists.code_from', 'code_lists.code_to') }}

)

select * from matched
