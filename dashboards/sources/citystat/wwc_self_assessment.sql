-- The What Works Cities self-assessment from CityStat's own metadata (one row per criterion).
select criterion_id, practice, criterion, status, evidence, detail, rule
from metrics.wwc_self_assessment
