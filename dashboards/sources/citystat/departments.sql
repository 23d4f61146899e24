-- Every department of the inventory with its coverage (datasets, automated, published).
select department_code, department_name, datasets, ingested, automated, published, automated_share, published_share
from inventory.departments
