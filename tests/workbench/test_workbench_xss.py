"""Stored XSS in every free-text field of the workbench renders inert on every screen that shows it, and every
write leaves one audit entry. Through Django's test client (the browser test covers the served app)."""
import html

from workbench_helpers import client_for

PW_FLAG = "pw_potholes_within_sla_pct:2026-09:red"


def payload(field: str) -> str:
    return f"<img src=x onerror=alert('{field}')><script>alert('{field}')</script>"


def test_every_free_text_field_renders_inert_and_is_audited(users, snapshot):
    from workbench.models import AuditEntry

    audited = AuditEntry.objects.count()
    olivia, paul, lena = client_for("olivia"), client_for("paul"), client_for("lena")
    writes = [
        (paul, f"/flags/{PW_FLAG}/", {"kind": "commit", "commit-owner": payload("owner"),
                                      "commit-action": payload("commitment"), "commit-due_date": "2026-11-30"}),
        (paul, f"/flags/{PW_FLAG}/", {"kind": "follow_up", "follow_up-follow_up": "slipped",
                                      "follow_up-reason": payload("follow-up note")}),
        (olivia, f"/flags/{PW_FLAG}/", {"kind": "escalate", "escalate-escalated_to": "dana",
                                        "escalate-reason": payload("escalation reason")}),
        (olivia, f"/flags/{PW_FLAG}/", {"kind": "dismiss", "dismiss-reason": payload("dismissal reason")}),
        (paul, "/flags/raise/", {"kpi_id": "pw_streetlights_within_sla_pct", "period": "2026-08",
                                 "reason": payload("raise reason")}),
        (paul, "/commentary/", {"kpi_id": "pw_potholes_within_sla_pct", "period": "2026-08",
                                "comment": payload("commentary")}),
        (lena, "/submissions/", {"kpi_id": "lib_visits", "period": "2026-08", "value": "40100",
                                 "data_source": payload("submission source"), "note": payload("submission note")}),
    ]
    for client, url, data in writes:
        response = client.post(url, data)
        assert response.status_code == 302, (url, data["kind"] if "kind" in data else "", response.content[-800:])

    fields = ["owner", "commitment", "follow-up note", "escalation reason", "dismissal reason", "raise reason",
              "commentary", "submission source", "submission note"]
    pages = {
        "flag page": olivia.get(f"/flags/{PW_FLAG}/").content.decode(),
        "manual flag page": olivia.get("/flags/pw_streetlights_within_sla_pct:2026-08:manual/").content.decode(),
        "commentary": olivia.get("/commentary/").content.decode(),
        "submissions": lena.get("/submissions/").content.decode(),
        "audit log": olivia.get("/audit/").content.decode(),
    }
    shown = {f: [] for f in fields}
    for name, page in pages.items():
        assert "<script>alert(" not in page and "<img src=x" not in page, name
        for field in fields:
            if html.escape(f"alert('{field}')") in page or f"alert(&#x27;{field}&#x27;)" in page:
                shown[field].append(name)
    assert all(shown[f] for f in fields), shown  # every payload was shown somewhere, escaped
    # seven writes, one audit entry each (the submission's note and source are one write)
    assert AuditEntry.objects.count() - audited == 7
