"""The audit log is append-only in the database itself: whatever code runs, SQLite refuses UPDATE and DELETE."""
from django.db import migrations

TRIGGERS = [
    """CREATE TRIGGER workbench_auditentry_no_update BEFORE UPDATE ON workbench_auditentry
       BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""",
    """CREATE TRIGGER workbench_auditentry_no_delete BEFORE DELETE ON workbench_auditentry
       BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""",
]


class Migration(migrations.Migration):
    dependencies = [("workbench", "0001_initial")]
    operations = [
        migrations.RunSQL(sql, reverse_sql=f"DROP TRIGGER IF EXISTS {sql.split()[2]}") for sql in TRIGGERS
    ]
