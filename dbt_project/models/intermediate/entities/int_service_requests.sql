-- Generated from the data inventory by `citystat generate`. Do not edit: change the inventory's `implements`.

-- Every 311 service request of the city, whatever system it came from: the rows fct_service_requests reads.
{{ config(tags=['daily']) }}

{{ entity_union(
    columns=[
        ("service_request_id", "varchar"),
        ("service_code", "varchar"),
        ("service_name", "varchar"),
        ("department_code", "varchar"),
        ("status", "varchar"),
        ("requested_at", "timestamp"),
        ("updated_at", "timestamp"),
        ("expected_at", "timestamp"),
        ("closed_at", "timestamp"),
        ("address", "varchar"),
        ("address_id", "varchar"),
        ("zipcode", "varchar"),
        ("latitude", "double precision"),
        ("longitude", "double precision"),
        ("description", "varchar"),
        ("status_notes", "varchar"),
        ("media_url", "varchar"),
        ("source_on_time", "boolean"),
        ("_load_id", "varchar"),
        ("_source_file", "varchar"),
        ("_row_number", "bigint"),
        ("_extracted_at", "timestamp")
    ],
    members=[
        ("crm311", ref("stg_crm311__service_requests"))
    ]
) }}
