{#
  Fails on rows whose column lies outside [min_value, max_value]; either bound may be omitted.
  Null values pass (pair it with not_null where nulls are not allowed).
#}
{% test within_range(model, column_name, min_value=none, max_value=none) %}

with

checked as (

    select {{ column_name }} as value

    from {{ model }}

    where {{ column_name }} is not null
      and (
        false
        {%- if min_value is not none %} or {{ column_name }} < {{ min_value }}{% endif %}
        {%- if max_value is not none %} or {{ column_name }} > {{ max_value }}{% endif %}
      )

)

select * from checked

{% endtest %}
