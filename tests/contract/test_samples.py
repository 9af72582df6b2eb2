"""Sample bodies a real deployment accepts: jobs dated after the target's today (from its ``Date``
header or its test clock), the user's sample data, and generated dates moved only when valid."""

from __future__ import annotations

import time
from datetime import date, timedelta
from email.utils import formatdate
from pathlib import Path

import pytest

from sergio_kit.config import load_config, samples_environment, samples_from_environment
from sergio_kit.contract.samples import (
    LEAD_DAYS,
    SAFE_LEAD_DAYS,
    Samples,
    schedule_ahead,
    today_from_http_date,
)
from sergio_kit.errors import SergioKitError
from sergio_kit.target.live import with_user_choices
from sergio_kit.target.target import Account, Target

TODAY = date(2031, 5, 20)


def test_a_sample_job_is_scheduled_after_the_given_today() -> None:
    """The job's date is LEAD_DAYS after today; the user's data replaces the published example's."""
    samples = Samples(customer_id="cust_qa", service_type="solar_panels", address={"street": "1 A St"})
    job = samples.job(TODAY, notes="n")
    assert job["scheduled_date"] == (TODAY + timedelta(days=LEAD_DAYS)).isoformat()
    assert (job["customer_id"], job["service_type"], job["address"], job["notes"]) == (
        "cust_qa",
        "solar_panels",
        {"street": "1 A St"},
        "n",
    )
    assert samples.body("bulkCreateJobs", TODAY)["jobs"][0]["scheduled_date"] == job["scheduled_date"]
    assert samples.body("createWebhook", TODAY)["url"] == samples.webhook_sink


@pytest.mark.parametrize(
    ("given", "moved"),
    [
        ("2026-02-15", True),  # the published example: long past
        (TODAY.isoformat(), True),
        ((TODAY + timedelta(days=SAFE_LEAD_DAYS - 1)).isoformat(), True),  # too close: time zones
        ((TODAY + timedelta(days=SAFE_LEAD_DAYS)).isoformat(), False),
        ("9999-12-31", False),
        ("2026-02-30", False),  # not a date: a negative case stays negative
        ("20260215", False),
        ("tomorrow", False),
    ],
)
def test_schedule_ahead_moves_only_valid_dates_too_close(given: str, moved: bool) -> None:
    """Create, update and bulk bodies: a valid date before today + SAFE_LEAD_DAYS moves after it."""
    for body, dated in (
        ({"scheduled_date": given}, lambda b: b),
        ({"jobs": [{"scheduled_date": given}, "x"]}, lambda b: b["jobs"][0]),
    ):
        result = dated(schedule_ahead(body, TODAY))["scheduled_date"]
        if moved:
            assert date.fromisoformat(result) >= TODAY + timedelta(days=LEAD_DAYS)
            assert schedule_ahead({"scheduled_date": given}, TODAY) == {"scheduled_date": result}  # replays
        else:
            assert result == given


def test_schedule_ahead_leaves_other_bodies_alone() -> None:
    """Bodies without a date, and non-objects, come back unchanged."""
    assert schedule_ahead({"notes": "x"}, TODAY) == {"notes": "x"}
    assert schedule_ahead([1, 2], TODAY) == [1, 2]
    assert schedule_ahead(None, TODAY) is None


def test_the_targets_today_comes_from_its_date_header() -> None:
    """A live target's today follows the Date header the kit noted, not this machine's clock."""
    target = Target(base_url="https://sergio.test", account=Account("a@b.test", "pw"))
    ahead = time.time() + 3 * 86_400
    target.note_date(formatdate(ahead, usegmt=True))
    assert target.today() == today_from_http_date(formatdate(ahead, usegmt=True))
    assert abs(target.now() - ahead) < 5
    target.note_date("not a date")  # teaches nothing
    assert abs(target.now() - ahead) < 5
    assert today_from_http_date(None) is None


def test_sample_settings_reach_the_target_and_the_load_processes(tmp_path: Path) -> None:
    """The [sample] table, SERGIO_SAMPLE_* (one precedence) and the Locust processes' environment."""
    (tmp_path / "sergio-kit.toml").write_text(
        '[sample]\ncustomer-id = "cust_file"\nservice_type = "gutter_cleaning"\n'
        'address = { street = "2 B St", city = "C", state = "IL", zip = "62701" }\n'
    )
    settings = load_config({}, {"SERGIO_SAMPLE_CUSTOMER_ID": "cust_env"}, tmp_path)
    assert settings.sources["sample_service_type"] == "sergio-kit.toml: sample.service_type"
    target = with_user_choices(Target(base_url="https://s.test", account=Account("a@b.test", "pw")), settings)
    assert (target.samples.customer_id, target.samples.service_type) == ("cust_env", "gutter_cleaning")
    assert target.samples.address["street"] == "2 B St"
    assert target.samples.webhook_sink == Samples().webhook_sink
    assert samples_from_environment(samples_environment(settings)) == Samples(
        customer_id="cust_env", service_type="gutter_cleaning", address=dict(target.samples.address)
    )


def test_bad_sample_settings_give_one_line_errors(tmp_path: Path) -> None:
    """An unknown [sample] key and an address that is not a JSON object say how to fix them."""
    (tmp_path / "sergio-kit.toml").write_text('[sample]\ncustomer = "cust_x"\n')
    with pytest.raises(SergioKitError, match=r"\[sample\] has unknown key 'customer': did you mean"):
        load_config({}, {}, tmp_path)
    (tmp_path / "sergio-kit.toml").unlink()
    with pytest.raises(SergioKitError, match="SERGIO_SAMPLE_ADDRESS has value '1 High St': expected a JSON"):
        load_config({}, {"SERGIO_SAMPLE_ADDRESS": "1 High St"}, tmp_path)
