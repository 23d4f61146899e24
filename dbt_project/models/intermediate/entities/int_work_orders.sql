-- Generated from the data inventory by `citystat generate`. Do not edit: change the inventory's `implements`.

-- Every work order of the city, whatever system it came from: the rows fct_work_orders reads.
{{ config(tags=['daily']) }}

{{ entity_union(
    columns=[
        ("work_order_id", "varchar"),
        ("service_request_id", "varchar"),
        ("asset_id", "varchar"),
        ("work_type", "varchar"),
        ("crew_id", "varchar"),
        ("status", "varchar"),
        ("created_at", "timestamp"),
        ("scheduled_date", "date"),
        ("completed_at", "timestamp"),
        ("labor_hours", "double precision"),
        ("material_cost", "decimal(18, 2)"),
        ("updated_at", "timestamp"),
        ("_load_id", "varchar"),
        ("_source_file", "varchar"),
        ("_row_number", "bigint"),
        ("_extracted_at", "timestamp")
    ],
    members=[
        ("pw_mms", ref("stg_pw_mms__work_orders"))
    ]
) }}
