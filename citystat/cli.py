"""`citystat`: the command-line tool. Each concept mounts its own sub-app; heavy imports stay inside commands."""
from __future__ import annotations

import typer

from data_inventory.cli import app as inventory_app
from demo_city.cli import app as demo_city_app
from citystat.budget.cli import app as budget_app
from citystat.contracts.cli import app as contracts_app
from citystat.dashboards_cli import app as dashboards_app
from citystat.evaluations.cli import app as evaluations_app
from citystat.generate import generate
from citystat.kpi.cli import app as kpi_app
from citystat.kpi.flags_cli import flags_app
from citystat.open_data.cli import app as open_data_app
from citystat.pipeline_cli import demo, publish, run
from citystat.postgres_cli import postgres_app
from citystat.public_site.cli import app as public_app
from workbench.cli import app as workbench_app

app = typer.Typer(help="CityStat: a performance-management warehouse for a city government.", no_args_is_help=True)
app.command()(demo)
app.command()(run)
app.command()(publish)
app.command()(generate)
app.add_typer(demo_city_app, name="demo-city")
app.add_typer(inventory_app, name="inventory")
app.add_typer(kpi_app, name="kpi")
app.add_typer(flags_app, name="flags")
app.add_typer(contracts_app, name="contracts")
app.add_typer(budget_app, name="budget")
app.add_typer(dashboards_app, name="dashboards")
app.add_typer(evaluations_app, name="evaluations")
app.add_typer(open_data_app, name="open-data")
app.add_typer(public_app, name="public")
app.add_typer(workbench_app, name="workbench")
app.add_typer(postgres_app, name="postgres")


if __name__ == "__main__":
    app()
