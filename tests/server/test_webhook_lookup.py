"""The endpoints an event goes to: found by the database, however many endpoints other events have."""

from __future__ import annotations

from pathlib import Path

from sergio_kit.server.storage import Database


def _hook(number: int, events: list[str]) -> dict[str, object]:
    return {"id": f"wh_{number}", "url": f"https://h.example/{number}", "events": events, "created_at": "t"}


def test_only_the_subscribed_endpoints_of_the_company_oldest_first(tmp_path: Path) -> None:
    db = Database(tmp_path / "sergio.db")
    try:
        db.add_webhook("co_a", _hook(1, ["job.deleted"]), "s1")
        db.add_webhook("co_a", _hook(2, ["job.created", "job.updated"]), "s2")
        db.add_webhook("co_a", _hook(3, ["job.created.v2"]), "s3")  # a longer name is another event
        db.add_webhook("co_b", _hook(4, ["job.created"]), "s4")
        db.add_webhook("co_a", _hook(5, ["job.created"]), "s5")
        found = db.webhooks_for("co_a", "job.created")
        assert [(hook["id"], secret) for hook, secret in found] == [("wh_2", "s2"), ("wh_5", "s5")]
        assert found[0][0] == _hook(2, ["job.created", "job.updated"])
        assert [hook["id"] for hook, _ in db.webhooks_for("co_a", "job.deleted")] == ["wh_1"]
        assert db.webhooks_for("co_c", "job.created") == []
        # the same answer as filtering every endpoint of the company
        every = [(h, s) for h, s in db.list_webhooks("co_a") if "job.created" in h["events"]]
        assert found == every
    finally:
        db.close()
