"""`citystat workbench ...`: create its database, its accounts, and serve it on 127.0.0.1. Django is imported only
inside the commands, so the rest of the `citystat` tool never loads it."""
from __future__ import annotations

import getpass
import os

import typer

app = typer.Typer(help="The performance office's workbench (flag commitments, manual submissions, commentary).",
                  no_args_is_help=True)
ROLES = ("office", "liaison", "viewer")


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workbench.settings")
    import django
    from django.core.exceptions import ImproperlyConfigured

    try:
        django.setup()
    except ImproperlyConfigured as error:  # a setting from the environment: say which, no traceback
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None


def migrate_database(verbosity: int = 0) -> None:
    """Create or upgrade the workbench database (Django migrations; idempotent)."""
    setup_django()
    from django.core.management import call_command

    from citystat.settings import workbench_db_path

    workbench_db_path().parent.mkdir(parents=True, exist_ok=True)
    call_command("migrate", interactive=False, verbosity=verbosity)


@app.command()
def migrate() -> None:
    """Create or upgrade the workbench database."""
    from citystat.settings import workbench_db_path

    migrate_database()
    typer.echo(f"workbench database ready: {workbench_db_path()}")


@app.command("create-user")
def create_user(
    username: str = typer.Argument(..., help="Sign-in name."),
    role: str = typer.Option(..., help="office (all departments), liaison (one department) or viewer (read, comment)."),
    department: str = typer.Option("", "--department", "-d", help="The liaison's department code."),
    password_env: str = typer.Option("", help="Read the password from this environment variable instead of asking."),
) -> None:
    """Create an account (the password is asked twice, or read from --password-env)."""
    if role not in ROLES:
        typer.echo(f"error: --role {role!r} is not one of {', '.join(ROLES)}", err=True)
        raise typer.Exit(1)
    if (role == "liaison") != bool(department):
        typer.echo("error: a liaison needs --department, and only a liaison has one", err=True)
        raise typer.Exit(1)
    from citystat.kpi.registry import inventory_departments

    if department and department not in inventory_departments():
        typer.echo(f"error: --department {department!r} is not a department of the inventory", err=True)
        raise typer.Exit(1)
    password = os.environ.get(password_env, "") if password_env else getpass.getpass("password: ")
    if not password_env and password != getpass.getpass("again: "):
        typer.echo("error: the passwords differ", err=True)
        raise typer.Exit(1)
    migrate_database()
    from django.contrib.auth.models import User
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError
    from django.db import transaction

    from workbench.models import Profile

    if User.objects.filter(username=username).exists():
        typer.echo(f"error: user {username!r} exists", err=True)
        raise typer.Exit(1)
    try:
        validate_password(password, User(username=username))
    except ValidationError as error:
        typer.echo(f"error: password: {' '.join(error.messages)}", err=True)
        raise typer.Exit(1) from None
    with transaction.atomic():
        user = User.objects.create_user(username, password=password, is_staff=role == "office")
        Profile.objects.create(user=user, role=role, department_code=department)
    typer.echo(f"{username}: {role}" + (f" of {department}" if department else ""))


@app.command()
def serve(port: int = typer.Option(7400, help="Port on 127.0.0.1."),
          host: str = typer.Option("127.0.0.1", help="Loopback only, unless you put it behind a TLS proxy.")) -> None:
    """Serve the workbench (uvicorn) until interrupted."""
    import uvicorn

    from citystat.settings import workbench_db_path

    migrate_database()
    typer.echo(f"workbench on http://{host}:{port}/ (database {workbench_db_path()}); Ctrl-C stops it")
    uvicorn.run("workbench.asgi:application", host=host, port=port, log_level="warning")
