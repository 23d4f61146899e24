"""Exports shaped exactly like public 311 ones (no network), for the draft, format and city tests.

Column lists written from the published exports, from memory (the search corpus had no copy): NYC Open Data
"311 Service Requests from 2010 to Present" (erm2-nwe9), 41 columns, timestamps `MM/DD/YYYY hh:mm:ss AM`;
Boston's "311 Service Requests" (2011-2023 layout), ISO timestamps and an `ontime` flag ONTIME/OVERDUE.
"""
from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

NYC_COLUMNS = [
    "Unique Key", "Created Date", "Closed Date", "Agency", "Agency Name", "Complaint Type", "Descriptor",
    "Location Type", "Incident Zip", "Incident Address", "Street Name", "Cross Street 1", "Cross Street 2",
    "Intersection Street 1", "Intersection Street 2", "Address Type", "City", "Landmark", "Facility Type", "Status",
    "Due Date", "Resolution Description", "Resolution Action Updated Date", "Community Board", "BBL", "Borough",
    "X Coordinate (State Plane)", "Y Coordinate (State Plane)", "Open Data Channel Type", "Park Facility Name",
    "Park Borough", "Vehicle Type", "Taxi Company Borough", "Taxi Pick Up Location", "Bridge Highway Name",
    "Bridge Highway Direction", "Road Ramp", "Bridge Highway Segment", "Latitude", "Longitude", "Location",
]
BOSTON_COLUMNS = [
    "case_enquiry_id", "open_dt", "target_dt", "closed_dt", "ontime", "case_status", "closure_reason", "case_title",
    "subject", "reason", "type", "queue", "department", "submittedphoto", "closedphoto", "location", "fire_district",
    "pwd_district", "city_council_district", "police_district", "neighborhood", "neighborhood_services_district",
    "ward", "precinct", "location_street_name", "location_zipcode", "latitude", "longitude", "source",
]


def nyc_row(i: int) -> dict:
    closed = i % 4 != 0  # every 4th request still open: Closed Date empty
    return {
        "Unique Key": str(54_000_000 + i),
        "Created Date": f"05/{1 + i % 28:02d}/2022 {1 + i % 12:02d}:00:03 {'AM' if i % 2 else 'PM'}",
        "Closed Date": f"06/{1 + i % 28:02d}/2022 10:15:00 AM" if closed else "",
        "Agency": ["NYPD", "DSNY", "DOT"][i % 3],
        "Agency Name": ["New York City Police Department", "Department of Sanitation", "Department of Transportation"][i % 3],
        "Complaint Type": ["Noise - Residential", "Dirty Condition", "Street Condition"][i % 3],
        "Descriptor": ["Loud Music/Party", "Trash", "Pothole"][i % 3],
        "Location Type": "Street/Sidewalk", "Incident Zip": ["10001", "11201", "10451"][i % 3],
        "Incident Address": f"{100 + i} BROADWAY", "Street Name": "BROADWAY", "Cross Street 1": "", "Cross Street 2": "",
        "Intersection Street 1": "", "Intersection Street 2": "", "Address Type": "ADDRESS", "City": "NEW YORK",
        "Landmark": "", "Facility Type": "", "Status": "Closed" if closed else "In Progress",
        "Due Date": f"05/{2 + i % 27:02d}/2022 12:00:03 AM",
        "Resolution Description": ("The Police Department responded to the complaint and determined that police "
                                   "action was not necessary." if closed else ""),
        "Resolution Action Updated Date": f"06/{1 + i % 28:02d}/2022 10:15:00 AM" if closed else "",
        "Community Board": "05 MANHATTAN", "BBL": str(1_008_350_041 + i), "Borough": "MANHATTAN",
        "X Coordinate (State Plane)": str(987_000 + i), "Y Coordinate (State Plane)": str(211_000 + i),
        "Open Data Channel Type": ["PHONE", "ONLINE", "MOBILE"][i % 3], "Park Facility Name": "Unspecified",
        "Park Borough": "MANHATTAN", "Vehicle Type": "", "Taxi Company Borough": "", "Taxi Pick Up Location": "",
        "Bridge Highway Name": "", "Bridge Highway Direction": "", "Road Ramp": "", "Bridge Highway Segment": "",
        "Latitude": f"40.75{i:04d}", "Longitude": f"-73.99{i:04d}", "Location": f"(40.75{i:04d}, -73.99{i:04d})",
    }


def boston_row(i: int) -> dict:
    return {
        "case_enquiry_id": str(101_004_000_000 + i), "open_dt": f"2022-05-{1 + i % 28:02d} 08:{i % 60:02d}:00",
        "target_dt": f"2022-05-{2 + i % 27:02d} 08:30:00", "closed_dt": f"2022-05-{2 + i % 27:02d} 09:00:00" if i % 5 else "",
        "ontime": "OVERDUE" if i % 3 == 0 else "ONTIME", "case_status": "Closed" if i % 5 else "Open",
        "closure_reason": "Case Closed. Case Resolved." if i % 5 else "", "case_title": "Request for Pothole Repair",
        "subject": "Public Works Department", "reason": "Highway Maintenance", "type": "Request for Pothole Repair",
        "queue": "PWDx_District 1C: Downtown", "department": "PWDx", "submittedphoto": "", "closedphoto": "",
        "location": f"INTERSECTION of Tremont St & Park St, Boston, MA", "fire_district": "3", "pwd_district": "1C",
        "city_council_district": "2", "police_district": "A1", "neighborhood": "Downtown / Financial District",
        "neighborhood_services_district": "3", "ward": "Ward 3", "precinct": "0306", "location_street_name": "Tremont St",
        "location_zipcode": "02108", "latitude": "42.3594", "longitude": "-71.0587",
        "source": ["Constituent Call", "Citizens Connect App", "Self Service"][i % 3],
    }


def write_csv(path: Path, columns: list[str], rows: list[dict]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def draft(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "citystat.cli", "inventory", "draft", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
