-- Fails on code-list rows whose bounds break the shared matching rule: code_from and code_to
-- must have the same length and code_from must not sort after code_to.
with

elixhauser_codes as (

    select * from {{ ref('seed_elixhauser_quan_icd9') }}

),

charlson_codes as (

    select * from {{ ref('seed_charlson_quan_icd9') }}

),

chapters as (

    select * from {{ ref('seed_icd9_chapters') }}

),

bounds as (

    select 'seed_elixhauser_quan_icd9' as seed_name, flag as name, code_from, code_to from elixhauser_codes
    union all
    select 'seed_charlson_quan_icd9', flag, code_from, code_to from charlson_codes
    union all
    select 'seed_icd9_chapters', chapter, code_from, code_to from chapters

),

malformed as (

    select *

    from bounds

    where code_from is null
       or code_to is null
       or length(code_from) <> length(code_to)
       or code_from > code_to

)

select * from malformed
