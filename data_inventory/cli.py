"""`citystat inventory ...`: validate, list, export and measure the citywide data inventory."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(help="The citywide data inventory: every department's systems and datasets.", no_args_is_help=True)

def _console():
    """Rich console: the terminal's width, or wide enough not to wrap when piped or captured."""
    import sys

    from rich.console import Console

    return Console(width=None if sys.stdout.isatty() else 200)


INVENTORY_OPTION = typer.Option(
    None, "--inventory", "-i", help="Inventory YAML (default: $CITYSTAT_INVENTORY, else the shipped data_inventory/inventory.yaml)."
)


def _load(path: Optional[Path]):
    """The inventory, or every problem printed and exit code 1."""
    from data_inventory.loader import inventory_path, load_inventory
    from data_inventory.problems import InventoryError

    try:
        return load_inventory(path)
    except InventoryError as exc:
        file = inventory_path(path)
        for problem in exc.problems:
            typer.echo(problem.format(file), err=True)
        typer.echo(f"{file}: {len(exc.problems)} problem(s); fix them first (`citystat inventory validate`)", err=True)
        raise typer.Exit(1) from None


@app.command()
def validate(
    path: Optional[Path] = typer.Argument(None, help="Inventory YAML (default: $CITYSTAT_INVENTORY, else the shipped one)."),
) -> None:
    """Check the inventory against its schema and rules; print every problem as `<file>:<line>: <entry> <field>: <message>`."""
    from data_inventory.loader import inventory_path, load_inventory
    from data_inventory.problems import InventoryError

    file = inventory_path(path)
    try:
        inventory = load_inventory(file)
    except InventoryError as exc:
        for problem in exc.problems:
            typer.echo(problem.format(file))
        typer.echo(f"{file}: {len(exc.problems)} problem(s)")
        raise typer.Exit(1) from None
    refs = list(inventory.datasets())
    fields = [f for r in refs for f in r.fields]
    typer.echo(
        f"OK {file}: {len(inventory.departments)} departments, {len(inventory.systems)} systems, "
        f"{len(refs)} datasets ({sum(r.dataset.ingested for r in refs)} ingested), {len(fields)} fields "
        f"({sum(f.sensitivity == 'pii' for f in fields)} pii, {sum(f.sensitivity == 'sensitive' for f in fields)} sensitive)"
    )


@app.command("list")
def list_datasets(
    department: Optional[str] = typer.Option(None, "--department", "-d", help="Only this department (code, e.g. pw)."),
    inventory_file: Optional[Path] = INVENTORY_OPTION,
) -> None:
    """Print the datasets as a table: department, system, dataset, connector, cadence, update method, access, sensitivity, publication."""
    from rich.table import Table

    inventory = _load(inventory_file)
    if department is not None and department not in {d.id for d in inventory.departments}:
        known = ", ".join(d.id for d in inventory.departments)
        typer.echo(f"no department {department!r} in the inventory (known: {known})", err=True)
        raise typer.Exit(2)
    table = Table(title=f"{inventory.city.name} data inventory ({inventory.updated})")
    # fold, never ellipsize: an id cut short is useless
    for column in ("dept", "system", "dataset", "connector", "cadence", "update", "access", "pii/sens/fields", "publication"):
        table.add_column(column, overflow="fold", justify="right" if "/" in column else "left")
    refs = list(inventory.datasets(department))
    for ref in refs:
        ds = ref.dataset
        table.add_row(
            ref.department.id,
            ref.system.id,
            ds.id,
            ds.connector,
            ds.cadence,
            ds.update_method,
            ds.access_level,
            f"{len(ref.pii_fields)}/{len(ref.restricted_fields) - len(ref.pii_fields)}/{len(ds.fields)}",
            ds.publication.status,
        )
    _console().print(table)
    typer.echo(f"{len(refs)} datasets")


@app.command("export-dcat")
def export_dcat(
    out: Path = typer.Option(Path("-"), "--out", "-o", help="Where to write data.json ('-' = standard output)."),
    inventory_file: Optional[Path] = INVENTORY_OPTION,
    open_data: Optional[Path] = typer.Option(
        None, "--open-data", help="Released open-data exports (<warehouse>/open_data): each becomes CSV and Parquet "
        "distributions, downloadURL under the base_url of its manifest.json."),
) -> None:
    """Export the inventory as a DCAT-US 1.1 catalog (Project Open Data data.json), checked against the vendored schema."""
    from data_inventory.dcat import to_dcat, validate_catalog

    inventory = _load(inventory_file)
    released, base_url = [], ""
    if open_data is not None:
        manifest_file = open_data / "manifest.json"
        if not manifest_file.is_file():
            typer.echo(f"export-dcat: {manifest_file} not found (build the exports first: citystat open-data build)", err=True)
            raise typer.Exit(1)
        manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
        released, base_url = manifest["exports"], manifest.get("base_url", "")
    catalog = to_dcat(inventory, released, base_url)
    problems = validate_catalog(catalog)
    if problems:
        for problem in problems:
            typer.echo(f"export-dcat: not valid DCAT-US 1.1: {problem}", err=True)
        raise typer.Exit(1)
    text = json.dumps(catalog, indent=2, ensure_ascii=False) + "\n"
    if str(out) == "-":
        typer.echo(text, nl=False)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {out}: DCAT-US 1.1 catalog with {len(catalog['dataset'])} datasets")


@app.command()
def coverage(inventory_file: Optional[Path] = INVENTORY_OPTION) -> None:
    """Per department: datasets, how many CityStat ingests, automated and published shares; then the What Works Cities criterion."""
    from rich.table import Table

    from data_inventory.coverage import department_coverage, inventory_criterion

    inventory = _load(inventory_file)
    rows = department_coverage(inventory)
    table = Table(title=f"{inventory.city.name} data inventory coverage")
    table.add_column("department")
    table.add_column("name")
    for column in ("datasets", "ingested", "automated", "published"):
        table.add_column(column, justify="right")

    def share(row, count: int) -> str:
        value = row.share(count)
        return "-" if value is None else f"{value:.0%}"

    for row in rows:
        table.add_row(
            row.department.id,
            row.department.name,
            str(row.datasets),
            f"{row.ingested} ({share(row, row.ingested)})",
            share(row, row.automated),
            share(row, row.published),
        )
    total = sum(r.datasets for r in rows)
    table.add_section()
    table.add_row(
        "all",
        f"{len(rows)} departments",
        str(total),
        f"{sum(r.ingested for r in rows)} ({sum(r.ingested for r in rows) / total:.0%})" if total else "-",
        f"{sum(r.automated for r in rows) / total:.0%}" if total else "-",
        f"{sum(r.published for r in rows) / total:.0%}" if total else "-",
    )
    _console().print(table)
    checks = inventory_criterion(inventory)
    met = sum(c.met for c in checks)
    for check in checks:
        typer.echo(f"  [{'x' if check.met else ' '}] {check.name}: {check.detail}")
    typer.echo(f"What Works Cities data inventory criterion: {met} of {len(checks)} parts met ({'meets' if met >= 3 else 'does not meet'} it: 3 of 4 needed)")


@app.command()
def draft(
    sample: str = typer.Argument(..., help="A sample of the export (.csv or .xlsx file), or with --connector the portal/API "
                                           "base URL, SQLAlchemy URL or SQLite path."),
    connector: Optional[str] = typer.Option(None, help="Read the source itself: soda, open311, sqlite or postgres."),
    source_object: Optional[str] = typer.Option(None, help="With --connector: SODA resource id, Open311 endpoint "
                                                           "(requests.json) or table name."),
    output: Path = typer.Option(..., "--output", "-o", help="Where to write the draft inventory YAML (never overwritten)."),
    dataset: str = typer.Option("service_requests", help="Dataset id (a safe SQL identifier)."),
    system: str = typer.Option("new_system", help="System id."),
    department: str = typer.Option("new_department", help="Department id."),
    city: str = typer.Option("New City", help="City name."),
    sheet: Optional[str] = typer.Option(None, help="XLSX sheet (default: the first)."),
    max_rows: int = typer.Option(10_000, min=1, max=1_000_000, help="Rows to profile at most."),
) -> None:
    """Profile a sample export and write a draft inventory entry (types, formats, key, codes, sensitivity) with review notes.

    Reads only the sample, writes only OUTPUT; nothing is ingested, published or sent anywhere."""
    from datetime import date

    from citystat.inventory_draft import SOURCE_CONNECTORS, DraftError, draft_inventory, render
    from citystat.inventory_draft import draft as profile_sample
    from data_inventory.rules import IDENTIFIER

    for what, value in (("dataset", dataset), ("system", system), ("department", department)):
        if not IDENTIFIER.match(value):
            typer.echo(f"--{what} {value!r} is not a safe identifier (a lowercase letter, then lowercase letters, digits, _)", err=True)
            raise typer.Exit(2)
    if connector is not None and (connector not in SOURCE_CONNECTORS or not source_object):
        typer.echo(f"--connector must be one of {', '.join(SOURCE_CONNECTORS)}, with --source-object", err=True)
        raise typer.Exit(2)
    if output.exists():
        typer.echo(f"{output}: already exists; drafts never overwrite (remove it or choose another --output)", err=True)
        raise typer.Exit(2)
    try:
        result = profile_sample(sample if connector else Path(sample), sheet=sheet, max_rows=max_rows,
                                connector=connector, source_object=source_object)
    except DraftError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    if connector is not None:
        # a database URL may hold a password: it stays in the environment variable, never in the inventory
        location = sample if connector in ("soda", "open311") else None
        kind, source = connector, source_object
    else:
        location, source = f"drops/{system}", Path(sample).name
        kind = "xlsx_drop" if Path(sample).suffix.lower() in (".xlsx", ".xlsm") else "csv_drop"
    inventory = draft_inventory(result, city=city, department=department, system=system, dataset=dataset,
                                connector=kind, location=location, source_object=source, updated=date.today().isoformat())
    env = inventory["departments"][0]["systems"][0]["datasets"][0]["location"]["env"]
    result.review.insert(0, f"exports are read from drops/{system}/ under the data directory (or ${env}): copy them there"
                         if connector is None else f"the source is read from ${env}: set it where the pipeline runs")
    output.write_text(render(result, inventory), encoding="utf-8")
    for c in result.columns:
        fmt = ", ".join(f"{k}={v}" for k, v in c.format.items())
        typer.echo(f"  {c.source!r} -> {c.name}: {c.type}{' (' + fmt + ')' if fmt else ''}, {c.null_rate:.0%} empty, "
                   f"{c.sensitivity}{', codes ' + '/'.join(c.allowed_values) if c.allowed_values and c.sensitivity == 'public' else ''}")
    typer.echo(f"drafted {len(result.columns)} fields from {result.rows} rows -> {output}")
    typer.echo(f"{len(result.review)} point(s) to review (listed at the top of the file); then: citystat inventory validate {output}")
