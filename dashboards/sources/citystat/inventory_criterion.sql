-- The What Works Cities data-inventory criterion, part by part (3 of 4 meets it).
select part, met, detail
from inventory.criterion
