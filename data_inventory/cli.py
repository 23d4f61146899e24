"""`citystat inventory ...` (stub; being written)."""
import typer

app = typer.Typer(help="The citywide data inventory.", no_args_is_help=True)


@app.command()
def validate() -> None:
    """Validate the inventory."""
    raise typer.Exit(1)
