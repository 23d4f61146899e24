"""Personal names in free text with no cue word before them ("Carmen Lopez reported the leak").

A name here is a capitalised given name from the US Census Bureau's given-name lists followed, after at most a
middle initial, by a capitalised surname from its surname list (88,799 surnames); a further surname or given name
straight after is taken too ("Mary Ann Smith"). The lists ship in the PyPI package ``names`` (pinned), so nothing is
fetched at run time. Both words must be on the lists, and words that name places far more often than people
(Street, Park, Hill...) never count as a surname, which keeps street and facility names ("Grace Street",
"Martin Park") out.

Presidio's analyzer was weighed: without an NER model (spaCy's are not on PyPI) its person recognizer is a deny
list, which is what this is, minus spaCy. ``register(con)`` adds ``redact_names(text)`` to a DuckDB connection:
dbt's (the citystat.dbt_udfs plugin) and the open-data exports' (citystat.open_data.exports), where the
``redact_contact_details`` macro calls it after the cue-word pattern.
"""
from __future__ import annotations

import re
from functools import cache
from importlib.resources import files

import pyarrow as pa

REDACTED = "[name redacted]"
WORD = re.compile(r"[A-Z][a-z]+(?:['-][A-Z]?[a-z]+)?")
GAP = re.compile(r"\s+(?:[A-Z]\.?\s+)?")  # spaces, or a middle initial between spaces
# census surnames that name places, facilities and things in city notes far more often than people
NOT_SURNAMES = frozenset("""
    STREET AVENUE ROAD LANE DRIVE COURT PLACE PARK HILL HILLS CHURCH SCHOOL CENTER CENTRE HALL BRIDGE WAY BOULEVARD
    SQUARE HEIGHTS GARDEN GARDENS MANOR VILLAGE TERRACE CIRCLE ALLEY HIGHWAY PIKE RIVER CREEK LAKE WOOD WOODS
    FIELD FIELDS GROVE RIDGE VIEW POINT MILL MILLS STATION LIBRARY MARKET CROSSING BAY BEACH SPRING SPRINGS VALLEY
    TOWER TOWERS PLAZA CHAPEL COUNTY CITY TOWN STATE OFFICE DEPARTMENT POLICE FIRE WATER WARD NORTH SOUTH EAST WEST
    MAIN HOUSE HOME HOMES APARTMENTS SENIOR JUNIOR HIGH ELEMENTARY MIDDLE MEMORIAL GENERAL HOSPITAL CLINIC
    """.split())
# street-type words and their postal abbreviations: "Grant Ave", and a "name" right before one is a street
# ("Martin Luther King Blvd")
STREET_TYPES = frozenset("""
    AVE AV AVENUE ST STREET RD ROAD DR DRIVE BLVD BOULEVARD LN LANE CT COURT PL PLACE CIR CIRCLE PKWY PARKWAY
    HWY HIGHWAY TER TERRACE TRL TRAIL SQ SQUARE WAY PIKE ALY ALLEY EXPY FWY JR SR
    """.split())


@cache
def _lists() -> tuple[frozenset[str], frozenset[str]]:
    folder = files("names")

    def read(name: str) -> frozenset[str]:
        return frozenset(line.split()[0] for line in folder.joinpath(name).read_text().splitlines() if line.strip())

    given = read("dist.male.first") | read("dist.female.first")
    return given, read("dist.all.last") - NOT_SURNAMES - STREET_TYPES


def name_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every personal name found in `text`."""
    given, surnames = _lists()
    words = list(WORD.finditer(text))
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(words) - 1:
        first, second = words[i], words[i + 1]
        if (first.group().upper() in given and second.group().upper() in surnames
                and GAP.fullmatch(text, first.end(), second.start())):
            end, j = second.end(), i + 1
            while (j + 1 < len(words) and words[j + 1].group().upper() in surnames
                   and GAP.fullmatch(text, words[j].end(), words[j + 1].start())):
                j += 1
                end = words[j].end()
            after = words[j + 1] if j + 1 < len(words) else None
            if after is None or after.group().upper() not in STREET_TYPES or not GAP.fullmatch(text, end, after.start()):
                spans.append((first.start(), end))
            i = j + 1
        else:
            i += 1
    return spans


def redact_names(text: str | None) -> str | None:
    """`text` with every personal name found replaced by ``[name redacted]``."""
    if not text:
        return text
    out, last = [], 0
    for start, end in name_spans(text):
        out += [text[last:start], REDACTED]
        last = end
    return "".join(out) + text[last:] if out else text


def _redact_batch(texts: pa.Array) -> pa.Array:
    return pa.array([redact_names(text) for text in texts.to_pylist()], type=pa.string())


def register(con) -> None:
    """Add ``redact_names(VARCHAR) -> VARCHAR`` to the DuckDB connection `con`, vectorised over Arrow batches."""
    con.create_function("redact_names", _redact_batch, ["VARCHAR"], "VARCHAR", type="arrow", side_effects=False)
