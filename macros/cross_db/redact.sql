{#- Text with every e-mail-like token (something@something) replaced by <e-mail>: a
    published text column (a quarantine reason) never carries an address, whatever a
    reader's message quoted. DuckDB replaces only the first match without the 'g' flag;
    Spark replaces all and takes no flags. -#}
{% macro redact_emails(expr) -%}
    {{ return(adapter.dispatch('redact_emails', 'laer')(expr)) }}
{%- endmacro %}

{% macro default__redact_emails(expr) -%}
    regexp_replace({{ expr }}, '[^@[:space:]]+@[^@[:space:]]+', '<e-mail>', 'g')
{%- endmacro %}

{% macro spark__redact_emails(expr) -%}
    regexp_replace({{ expr }}, '[^@\\s]+@[^@\\s]+', '<e-mail>')
{%- endmacro %}
