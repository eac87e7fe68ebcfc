{#
  Synthetic generations. With `--vars '{generation: g}'` the sources read schema synthetic_<g>
  and every model builds into it; without the var they read `raw` and build into `main`.
#}

{% macro generation_id() -%}
  {%- set generation = var('generation', none) -%}
  {%- if generation is none or generation == '' -%}
    {{ return(none) }}
  {%- endif -%}
  {%- if not modules.re.match('^[a-z][a-z0-9_]{2,40}$', generation | string) -%}
    {{ exceptions.raise_compiler_error(
        "Invalid dbt var generation=" ~ generation ~ ": a generation id has 3 to 41 characters, "
        ~ "lower-case letters, digits and underscores, starting with a letter. "
        ~ "List generation ids with `select generation_id from ml.generations`.") }}
  {%- endif -%}
  {{ return(generation | string) }}
{%- endmacro %}


{% macro generation_schema() -%}
  {%- set generation = generation_id() -%}
  {{ return('synthetic_' ~ generation if generation is not none else none) }}
{%- endmacro %}


{% macro is_generation_build() -%}
  {{ return(generation_id() is not none) }}
{%- endmacro %}


{#
  A model with its own `schema` config (the seeds and mm_admission_features_all pin `main`)
  keeps it; every other model goes to synthetic_<g> in a generation build, else to `main`.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
  {%- set synthetic_schema = generation_schema() -%}
  {%- if custom_schema_name is not none -%}
    {{ custom_schema_name | trim }}
  {%- elif synthetic_schema is not none -%}
    {{ synthetic_schema }}
  {%- else -%}
    {{ target.schema }}
  {%- endif -%}
{%- endmacro %}


{#
  Schemas that hold a built synthetic mm_admission_features, looked up at run time so the
  union view covers every generation built so far. Returns an empty list at parse time.
#}
{% macro synthetic_feature_schemas() -%}
  {%- if not execute -%}
    {{ return([]) }}
  {%- endif -%}
  {%- set query -%}
    select table_schema
    from information_schema.tables
    where table_catalog = current_database()
      and table_name = 'mm_admission_features'
      and starts_with(table_schema, 'synthetic_')
    order by table_schema
  {%- endset -%}
  {{ return(run_query(query).columns[0].values() | list) }}
{%- endmacro %}


{% macro real_features_exist() -%}
  {%- if not execute -%}
    {{ return(false) }}
  {%- endif -%}
  {%- set relation = adapter.get_relation(database=target.database, schema=target.schema, identifier='mm_admission_features') -%}
  {{ return(relation is not none) }}
{%- endmacro %}
