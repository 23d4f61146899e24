"""The workbench under test: its own SQLite file, a tiny published snapshot with two automated flags, a drop folder."""
import os

import pytest

from workbench_helpers import PASSWORD, write_snapshot


@pytest.fixture(scope="session")
def workbench_db(tmp_path_factory):
    """Django set up once per session on a fresh database (settings read the environment at import)."""
    tmp = tmp_path_factory.mktemp("workbench")
    wanted = {"CITYSTAT_WORKBENCH_DB": str(tmp / "workbench.sqlite3"),
              "CITYSTAT_WORKBENCH_SECRET_KEY": "test-secret-key-not-for-production-0123456789"}
    before = {k: os.environ.get(k) for k in wanted}
    os.environ.update(wanted)
    try:
        from workbench.cli import migrate_database

        migrate_database()
    finally:  # Django has read them; later tests (the inventory's workbench location) must not see them
        for key, value in before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return tmp / "workbench.sqlite3"


@pytest.fixture
def snapshot(tmp_path, monkeypatch):
    """A published snapshot holding two open automated flags: one of Public Works, one of Fire."""
    path = write_snapshot(tmp_path / "citystat.duckdb")
    monkeypatch.setenv("CITYSTAT_SNAPSHOT", str(path))
    monkeypatch.setenv("CITYSTAT_PERF_DROPS", str(tmp_path / "drops"))
    monkeypatch.setenv("CITYSTAT_DATA_ROOTS", str(tmp_path))  # an env drop folder must lie in a data root
    monkeypatch.setenv("CITYSTAT_AS_OF", "2026-10-31")
    return path


@pytest.fixture
def users(workbench_db):
    """office, liaison of pw, liaison of fire and a deputy mayor (viewer); removed after the test."""
    from django.contrib.auth.models import User

    from workbench.models import Profile

    made = {}
    for name, role, dept in (("olivia", "office", ""), ("paul", "liaison", "pw"), ("fiona", "liaison", "fire"), ("lena", "liaison", "lib"),
                             ("dana", "viewer", "")):
        user = User.objects.create_user(name, password=PASSWORD)
        Profile.objects.create(user=user, role=role, department_code=dept)
        made[name] = user
    yield made
    from axes.models import AccessAttempt, AccessFailureLog

    AccessAttempt.objects.all().delete()
    AccessFailureLog.objects.all().delete()
    User.objects.filter(pk__in=[u.pk for u in made.values()]).delete()
