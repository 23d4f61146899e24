"""The workbench through Django's test client: roles and departments enforced on crafted requests, CSRF, login
throttling, inert free text, registry validation of submissions, commitments, and the append-only audit log."""
import csv
import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, connection

from workbench_helpers import PASSWORD, client_for

PW_FLAG = "pw_potholes_within_sla_pct:2026-09:red"
FIRE_FLAG = "fire_turnout_p90_sec:2026-09:red"
XSS = "<script>alert(1)</script>"


def city_wall_clock(moment: dt.datetime) -> str:
    """An aware UTC moment as Riverton's wall clock (America/New_York), worked out here without Django."""
    assert moment.utcoffset() == dt.timedelta(0)  # stored in UTC
    return moment.astimezone(ZoneInfo("America/New_York")).strftime("%Y-%m-%d %H:%M:%S")


def test_liaison_sees_and_changes_only_own_department(users, snapshot):
    paul = client_for("paul")
    listing = paul.get("/").content.decode()
    assert PW_FLAG in listing and FIRE_FLAG not in listing
    assert paul.get(f"/flags/{FIRE_FLAG}/").status_code == 404
    crafted = paul.post(f"/flags/{FIRE_FLAG}/", {"kind": "commit", "commit-owner": "x", "commit-action": "y",
                                                 "commit-due_date": "2026-11-30"})
    assert crafted.status_code == 404
    # a KPI of another department in the raise / commentary forms is refused too
    assert paul.post("/flags/raise/", {"kpi_id": "fire_turnout_p90_sec", "period": "2026-09", "reason": "r"}).status_code == 403
    from workbench.models import Commentary, FlagAction

    assert not FlagAction.objects.filter(flag_id=FIRE_FLAG).exists()
    assert paul.post("/commentary/", {"kpi_id": "fire_turnout_p90_sec", "period": "2026-09", "comment": "not mine"}).status_code == 403
    assert not Commentary.objects.filter(comment="not mine").exists()
    # the office sees both
    office = client_for("olivia").get("/").content.decode()
    assert PW_FLAG in office and FIRE_FLAG in office


def test_commitment_follow_up_and_overdue(users, snapshot):
    from workbench.models import AuditEntry, FlagAction

    paul = client_for("paul")
    before = AuditEntry.objects.count()
    response = paul.post(f"/flags/{PW_FLAG}/", {"kind": "commit", "commit-owner": "Crew chief North",
                                                "commit-action": "Add a second pothole crew", "commit-due_date": "2020-01-15"})
    assert response.status_code == 302
    action = FlagAction.objects.get(flag_id=PW_FLAG, kind="commit")
    assert (action.owner, action.status, action.department_code, action.actor) == ("Crew chief North", "acknowledged", "pw", "paul")
    page = paul.get("/").content.decode()
    assert "overdue" in page and "Add a second pothole crew" in page  # due 2020-01-15: long past
    unsaid = paul.post(f"/flags/{PW_FLAG}/", {"kind": "follow_up", "follow_up-follow_up": ""})  # no default outcome
    assert unsaid.status_code == 200 and "This field is required" in unsaid.content.decode()
    paul.post(f"/flags/{PW_FLAG}/", {"kind": "follow_up", "follow_up-follow_up": "slipped", "follow_up-reason": "crew out"})
    assert FlagAction.objects.filter(flag_id=PW_FLAG, kind="follow_up", follow_up="slipped").count() == 1
    # a liaison cannot dismiss; the office can, with a reason
    assert paul.post(f"/flags/{PW_FLAG}/", {"kind": "dismiss", "dismiss-reason": "x"}).status_code == 403
    olivia = client_for("olivia")
    assert olivia.post(f"/flags/{PW_FLAG}/", {"kind": "dismiss", "dismiss-reason": ""}).status_code == 200  # reason required
    assert olivia.post(f"/flags/{PW_FLAG}/", {"kind": "dismiss", "dismiss-reason": "data error at source"}).status_code == 302
    assert f"/flags/{PW_FLAG}/" not in olivia.get("/").content.decode()  # dismissed: off the open list
    assert AuditEntry.objects.count() - before == 3  # commit, follow-up, dismiss
    # escalation goes to a deputy mayor (a viewer account), with a reason
    olivia.post(f"/flags/{FIRE_FLAG}/", {"kind": "escalate", "escalate-escalated_to": "dana", "escalate-reason": "third month"})
    assert FlagAction.objects.get(flag_id=FIRE_FLAG, kind="escalate").status == "escalated"
    FlagAction.objects.filter(flag_id__in=[PW_FLAG, FIRE_FLAG]).all()._raw_delete(FlagAction.objects.db)  # test cleanup


def test_viewer_reads_and_comments_but_cannot_act(users, snapshot):
    from workbench.models import Commentary

    dana = client_for("dana")
    assert PW_FLAG in dana.get("/").content.decode()
    assert dana.post(f"/flags/{PW_FLAG}/", {"kind": "commit", "commit-owner": "x", "commit-action": "y",
                                            "commit-due_date": "2026-11-30"}).status_code == 403
    assert dana.post("/submissions/", {"kpi_id": "lib_visits"}).status_code == 403
    assert dana.post("/commentary/", {"kpi_id": "lib_visits", "period": "2026-09", "comment": "storm week"}).status_code == 302
    assert Commentary.objects.filter(kpi_id="lib_visits", comment="storm week", author="dana").exists()
    assert dana.get("/audit/").status_code == 403


def test_free_text_renders_inert(users, snapshot):
    lena = client_for("lena")
    lena.post("/commentary/", {"kpi_id": "lib_visits", "period": "2026-09", "comment": XSS})
    page = lena.get("/commentary/").content.decode()
    assert XSS not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_form_without_csrf_token_is_refused(users, snapshot):
    from workbench.models import Commentary

    client = client_for("lena", enforce_csrf=True) if False else None
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    login_page = client.get("/login/")
    token = login_page.cookies["csrftoken"].value
    assert client.post("/login/", {"username": "lena", "password": PASSWORD, "csrfmiddlewaretoken": token}).status_code == 302
    refused = client.post("/commentary/", {"kpi_id": "lib_visits", "period": "2026-08", "comment": "no token"})
    assert refused.status_code == 403
    assert not Commentary.objects.filter(comment="no token").exists()


def test_cookie_flags_and_session_rotation(users, snapshot):
    from django.test import Client

    client = Client()
    client.get("/login/")
    client.cookies["sessionid"] = "attacker-chosen-session-id"
    response = client.post("/login/", {"username": "paul", "password": PASSWORD})
    session = response.cookies["sessionid"]
    assert session.value != "attacker-chosen-session-id"  # session fixation: a new id on sign-in
    assert session["secure"] and session["httponly"] and session["samesite"] == "Strict"
    assert response.cookies["csrftoken"]["secure"]


def test_login_is_throttled_after_five_failures(users, snapshot):
    from django.test import Client

    client = Client()
    codes = [client.post("/login/", {"username": "paul", "password": f"wrong-{i}"}).status_code for i in range(6)]
    assert codes[:4] == [200] * 4 and codes[4:] == [429, 429]  # the fifth failure locks the account
    # even the right password is refused while locked
    assert client.post("/login/", {"username": "paul", "password": PASSWORD}).status_code == 429


def test_submission_validated_saved_dropped_and_corrected(users, snapshot):
    from workbench.models import Submission

    lena = client_for("lena")
    bad = lena.post("/submissions/", {"kpi_id": "lib_patron_satisfaction_pct", "period": "2026-09", "value": "140",
                                      "data_source": "survey"})
    assert bad.status_code == 200 and "140 is not a percentage 0-100" in bad.content.decode()
    mismatch = lena.post("/submissions/", {"kpi_id": "lib_patron_satisfaction_pct", "period": "2026-09", "value": "80",
                                           "numerator": "30", "denominator": "50", "data_source": "survey"})
    assert "does not match" in mismatch.content.decode()
    future = lena.post("/submissions/", {"kpi_id": "lib_visits", "period": "2027-01", "value": "5", "data_source": "gate"})
    assert "after the as-of date" in future.content.decode()
    assert not Submission.objects.exists()
    ok = lena.post("/submissions/", {"kpi_id": "lib_visits", "period": "2026-09", "value": "41250", "data_source": "gate counters",
                                     "note": "branch 3 closed a week"})
    assert ok.status_code == 302
    first = Submission.objects.get()
    drops = snapshot.parent / "drops"
    with open(drops / first.drop_file, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows == [{"kpi_id": "lib_visits", "department_code": "lib", "period": "2026-09", "value": "41250.0",
                     "numerator": "", "denominator": "", "submitted_by": "lena",
                     "submitted_at": city_wall_clock(first.submitted_at),
                     "notes": "source: gate counters; branch 3 closed a week"}]
    again = lena.post("/submissions/", {"kpi_id": "lib_visits", "period": "2026-09", "value": "41300", "data_source": "gate counters"})
    assert "give the reason for the correction" in again.content.decode()
    fixed = lena.post("/submissions/", {"kpi_id": "lib_visits", "period": "2026-09", "value": "41300",
                                        "data_source": "gate counters", "correction_reason": "counter 2 double-counted"})
    assert fixed.status_code == 302
    assert list(Submission.objects.order_by("id").values_list("value", "correction_reason")) == [
        (41250.0, ""), (41300.0, "counter 2 double-counted")]
    # a liaison cannot submit another department's KPI, even by a crafted request
    assert client_for("paul").post("/submissions/", {"kpi_id": "lib_visits", "period": "2026-08", "value": "1",
                                                     "data_source": "x"}).status_code == 403
    assert Submission.objects.count() == 2
    Submission.objects.all()._raw_delete(Submission.objects.db)


def test_audit_log_cannot_be_changed(users, snapshot):
    from workbench.models import AuditEntry

    client_for("dana").post("/commentary/", {"kpi_id": "lib_visits", "period": "2026-07", "comment": "audited"})
    entry = AuditEntry.objects.filter(actor="dana", what="commentary").latest("id")
    assert '"comment": "audited"' in entry.after
    with pytest.raises(PermissionError):
        entry.delete()
    with pytest.raises(PermissionError):
        entry.save()
    for sql in ("UPDATE workbench_auditentry SET actor = 'x'", "DELETE FROM workbench_auditentry"):
        with pytest.raises(IntegrityError, match="append-only"), connection.cursor() as cursor:
            cursor.execute(sql)
    assert AuditEntry.objects.filter(pk=entry.pk, actor="dana").exists()
