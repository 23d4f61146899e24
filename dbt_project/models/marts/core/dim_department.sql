-- The city's departments (stable codes used in every department_code column).
select department_code, department_name
from {{ ref('departments') }}
