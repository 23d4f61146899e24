"""Riverton's fixed reference data, shared by every simulated system (docs/contracts.md)."""
from __future__ import annotations

DEPARTMENTS: dict[str, str] = {
    "cs": "311 Customer Service",
    "pw": "Public Works",
    "ce": "Code Enforcement",
    "fin": "Finance",
    "proc": "Procurement",
    "fire": "Fire",
    "hs": "Human Services",
    "perf": "Performance Office",
    "omb": "Budget Office",
    "plan": "Planning and Development",
    "clerk": "City Clerk",
    "pol": "Police",
    "parks": "Parks and Recreation",
    "san": "Sanitation",
    "wat": "Watershed Management",
    "trn": "Transportation",
    "hlth": "Health",
    "lib": "Library",
    "hr": "Human Resources",
    "it": "Information Technology",
    "law": "Law",
    "fleet": "Fleet Services",
}

DISTRICTS = ["north", "central", "south", "east", "west"]
ZIPCODES = {"north": "30101", "central": "30102", "south": "30103", "east": "30104", "west": "30105"}
# Rough bounding boxes so lat/long look like one city
CITY_CENTER = (33.75, -84.39)

# 311 service types: code -> (name, responsible department, SLA days, share of request volume)
SERVICE_TYPES: dict[str, tuple[str, str, float, float]] = {
    "POTHOLE": ("Pothole", "pw", 2, 0.12),
    "STREETLIGHT": ("Streetlight out", "pw", 10, 0.08),
    "SIGN": ("Damaged street sign", "pw", 5, 0.04),
    "SIDEWALK": ("Sidewalk repair", "pw", 30, 0.03),
    "MISSED_TRASH": ("Missed trash pickup", "san", 2, 0.16),
    "ILLEGAL_DUMPING": ("Illegal dumping", "san", 7, 0.07),
    "GRAFFITI": ("Graffiti removal", "parks", 7, 0.06),
    "TREE_DOWN": ("Tree down or hazardous", "parks", 3, 0.04),
    "WATER_MAIN": ("Water main break", "wat", 1, 0.03),
    "SEWER_BACKUP": ("Sewer backup", "wat", 2, 0.04),
    "TRAFFIC_SIGNAL": ("Traffic signal malfunction", "trn", 1, 0.04),
    "ABANDONED_VEHICLE": ("Abandoned vehicle", "pol", 10, 0.07),
    "NOISE": ("Noise complaint", "pol", 1, 0.10),
    "RODENT": ("Rodent sighting", "hlth", 10, 0.05),
    "VACANT_PROPERTY": ("Vacant or abandoned property", "ce", 30, 0.07),
}
# The department whose on-time completion climbs from ~57% to ~95% over the history (Atlanta's story)
IMPROVING_DEPARTMENT = "pw"

# Budget programmes: code -> (department, name)
PROGRAMS: dict[str, tuple[str, str]] = {
    "cs_contact_center": ("cs", "311 contact center"),
    "pw_street_maint": ("pw", "Street maintenance"),
    "pw_streetlights": ("pw", "Streetlights and signs"),
    "pw_resurfacing": ("pw", "Street resurfacing (contracted)"),
    "ce_vacant_properties": ("ce", "Vacant and abandoned properties"),
    "fin_accounting": ("fin", "Accounting and payroll"),
    "proc_purchasing": ("proc", "Purchasing"),
    "fire_suppression": ("fire", "Fire suppression"),
    "fire_ems": ("fire", "Emergency medical services"),
    "hs_senior_centres": ("hs", "Senior centres"),
    "hs_child_care": ("hs", "Child-care centres"),
    "perf_analytics": ("perf", "Performance analytics"),
    "omb_budget": ("omb", "Budget and management"),
    "plan_permits": ("plan", "Permits and inspections"),
    "clerk_records": ("clerk", "Records and elections"),
    "pol_patrol": ("pol", "Patrol"),
    "pol_investigations": ("pol", "Investigations"),
    "parks_maintenance": ("parks", "Parks maintenance"),
    "parks_forestry": ("parks", "Urban forestry"),
    "parks_recreation": ("parks", "Recreation programmes"),
    "san_collection": ("san", "Solid waste collection"),
    "wat_distribution": ("wat", "Water distribution"),
    "wat_sewer": ("wat", "Sewer maintenance"),
    "trn_signals": ("trn", "Traffic signals"),
    "hlth_vector": ("hlth", "Vector control"),
    "lib_branches": ("lib", "Branch libraries"),
    "hr_recruitment": ("hr", "Recruitment"),
    "it_operations": ("it", "IT operations"),
    "law_counsel": ("law", "Legal counsel"),
    "fleet_maintenance": ("fleet", "Fleet maintenance"),
}

# Approximate annual spending by department at scale 1 (USD); drives budget and ledger volumes
ANNUAL_BUDGET: dict[str, float] = {
    "cs": 6e6, "pw": 48e6, "ce": 7e6, "fin": 9e6, "proc": 4e6, "fire": 95e6, "hs": 22e6,
    "perf": 2e6, "omb": 3e6, "plan": 12e6, "clerk": 4e6, "pol": 160e6, "parks": 30e6,
    "san": 38e6, "wat": 70e6, "trn": 18e6, "hlth": 14e6, "lib": 11e6, "hr": 6e6, "it": 20e6,
    "law": 8e6, "fleet": 28e6,  # fleet is planted far above peer cities per capita
}
PEER_FUNCTIONS = ["pol", "fire", "pw", "parks", "san", "wat", "lib", "hs", "hlth", "fleet"]
OUT_OF_LINE_FUNCTION = "fleet"

# Vendors: the three paving contractors come first; VND-0003 underperforms every season
VENDORS: list[tuple[str, str]] = [
    ("VND-0001", "Keystone Asphalt Co."),
    ("VND-0002", "Riverside Road Builders"),
    ("VND-0003", "Brightline Paving"),
    ("VND-0004", "Metro Office Supply"),
    ("VND-0005", "Civic Fleet Parts"),
    ("VND-0006", "Greenway Tree Care"),
    ("VND-0007", "Clearwater Pipe & Valve"),
    ("VND-0008", "Beacon Lighting Systems"),
    ("VND-0009", "Summit IT Services"),
    ("VND-0010", "Harbor Janitorial"),
    ("VND-0011", "Northstar Consulting"),
    ("VND-0012", "Allied Safety Equipment"),
]
PAVING_VENDORS = ["VND-0001", "VND-0002", "VND-0003"]
UNDERPERFORMING_VENDOR = "VND-0003"
PAVING_REGIONS = ["north", "central", "south"]

# Human-services sites: (site_id, name, program, service area); S03 keeps failing beside a successful S01
SITES: list[tuple[str, str, str, str]] = [
    ("SITE-S01", "Eastside Senior Center", "hs_senior_centres", "east"),
    ("SITE-S02", "Northgate Senior Center", "hs_senior_centres", "north"),
    ("SITE-S03", "Elm Street Senior Center", "hs_senior_centres", "east"),
    ("SITE-S04", "Westview Senior Center", "hs_senior_centres", "west"),
    ("SITE-C01", "Central Kids Child Care", "hs_child_care", "central"),
    ("SITE-C02", "South Park Child Care", "hs_child_care", "south"),
    ("SITE-C03", "Riverbend Child Care", "hs_child_care", "south"),
    ("SITE-C04", "Northgate Child Care", "hs_child_care", "north"),
]
FAILING_SITE = "SITE-S03"
STRONG_PEER_SITE = "SITE-S01"

# Vacant properties public goal (South Bend style)
VACANT_GOAL = {"goal_id": "G-VACANT-1000", "target_value": 1000, "start_date": "2024-01-01", "days": 1000}

PEER_CITIES: list[tuple[str, str, int]] = [
    ("Ashford", "OH", 310_000), ("Bayport", "FL", 365_000), ("Cedar Falls", "IA", 298_000),
    ("Dalton", "TX", 402_000), ("Easton", "PA", 336_000), ("Fairview", "NC", 377_000),
    ("Glenwood", "CO", 321_000), ("Hartwell", "GA", 344_000),
]
