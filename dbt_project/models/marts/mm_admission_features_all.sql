{{ config(materialized='view', schema='main') }}

-- Real and every synthetic mm_admission_features side by side, with a `source` column:
-- 'real' or the generation id. The synthetic schemas are looked up when the view is built, so
-- every build (real or generation) rebuilds this view over what exists at that moment.
-- depends_on: {{ ref('mm_admission_features') }}

{%- set synthetic_schemas = synthetic_feature_schemas() %}
{%- set include_real = real_features_exist() %}

with

{% if include_real -%}
real_features as (

    select 'real' as source, * from {{ target.database }}.main.mm_admission_features

),
{%- endif %}

{% for schema in synthetic_schemas -%}
{{ schema }}_features as (

    select '{{ schema[("synthetic_" | length):] }}' as source, * from {{ target.database }}.{{ schema }}.mm_admission_features

),
{% endfor %}

unioned as (

    {% for part in (['real'] if include_real else []) + synthetic_schemas -%}
    select * from {{ part }}_features
    {% if not loop.last %}union all by name{% endif %}
    {% else -%}
    -- No mm_admission_features built yet: an empty view with the mart's columns.
    select 'real' as source, * from {{ ref('mm_admission_features') }} where false
    {%- endfor %}

)

select * from unioned
