-- Budget programmes (the unit of budgeting, spending and repurposing decisions).
select
    programs.program_code,
    programs.program_name,
    programs.department_code,
    departments.department_name,
    programs.first_fiscal_year,
    programs.last_fiscal_year
from {{ ref('int_programs') }} as programs
left join {{ ref('departments') }} as departments on departments.department_code = programs.department_code
