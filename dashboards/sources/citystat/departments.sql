-- Department codes and names (contracts.md), for labels and the department pages.
select department_code, department_name
from inventory.departments
