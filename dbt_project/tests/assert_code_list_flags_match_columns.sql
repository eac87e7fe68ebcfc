-- Fails when a code-list or weight seed names a flag or chapter that is not a mart column, or
-- when a mart flag or chapter has no codes, weight or body system.
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

vanwalraven_weights as (

    select * from {{ ref('seed_vanwalraven_weights') }}

),

charlson_weights as (

    select * from {{ ref('seed_charlson_weights') }}

),

body_systems as (

    select * from {{ ref('seed_condition_body_systems') }}

),

hierarchy as (

    select * from {{ ref('seed_comorbidity_hierarchy') }}

),

expected as (

    {% for flag in elixhauser_flags() -%}
    select 'elixhauser' as list_name, '{{ flag }}' as name union all
    select 'vanwalraven', '{{ flag }}' union all
    select 'body_system', '{{ flag }}' union all
    {% endfor -%}
    {% for flag in charlson_flags() -%}
    select 'charlson', '{{ flag }}' union all
    select 'charlson_weight', '{{ flag }}' union all
    {% endfor -%}
    {% for chapter in icd9_chapters() -%}
    select 'chapter', '{{ chapter }}'{{ " union all" if not loop.last }}
    {% endfor %}

),

actual as (

    select distinct 'elixhauser' as list_name, flag as name from elixhauser_codes
    union all
    select distinct 'charlson', flag from charlson_codes
    union all
    select distinct 'chapter', chapter from chapters
    union all
    select distinct 'vanwalraven', flag from vanwalraven_weights
    union all
    select distinct 'charlson_weight', flag from charlson_weights
    union all
    select distinct 'body_system', flag from body_systems

),

hierarchy_flags as (

    select dominant_flag as name from hierarchy
    union
    select suppressed_flag from hierarchy

),

mismatches as (

    (select 'missing from seed' as problem, * from expected except select 'missing from seed', * from actual)
    union all
    (select 'not a mart column' as problem, * from actual except select 'not a mart column', * from expected)
    union all
    select 'hierarchy flag is not a mart column' as problem, 'hierarchy' as list_name, name
    from hierarchy_flags
    where name not in (
        {%- for flag in elixhauser_flags() + charlson_flags() %}'{{ flag }}'{{ ", " if not loop.last }}{% endfor -%}
    )

)

select * from mismatches
