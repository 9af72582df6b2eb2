"""The ``future-dates-only`` variant: a job scheduled before the server's today (its clock's UTC date,
which the test clock moves) is refused with 422 and the error shape, on every way a job is written."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from sergio_kit.contract.samples import example_job
from sergio_kit.target.clock import TestClock
from sergio_kit.target.embedded import RunningServer, start_server
from tests.support.api import bearer, client_for, login, seeded_accounts
from tests.support.clock import clock_of, start_fresh_windows


@pytest.fixture(scope="module")
def dated_server(tmp_path_factory: pytest.TempPathFactory, server_template: Path) -> Iterator[RunningServer]:
    """A server that refuses jobs scheduled in the past."""
    running = start_server(
        tmp_path_factory.mktemp("future-dates-only"),
        variants=("future-dates-only",),
        template=server_template,
        plain_http=False,
    )
    yield running
    running.stop()


@pytest.fixture(scope="module")
def dated_clock(dated_server: RunningServer) -> Iterator[TestClock]:
    """The dated server's test clock."""
    with clock_of(dated_server) as clock:
        yield clock


@pytest.fixture
def admin(
    dated_server: RunningServer, dated_clock: TestClock
) -> Iterator[tuple[httpx.Client, dict[str, str]]]:
    """A client of the dated server and the first company admin's bearer header (fresh windows)."""
    start_fresh_windows(dated_clock)
    with client_for(dated_server) as client:
        yield client, bearer(login(client, seeded_accounts(dated_server)["acme"]["admin"])["token"])


def server_today(clock: TestClock) -> date:
    """The UTC date of the server's clock."""
    return datetime.fromtimestamp(clock.now(), UTC).date()


def on(day: date) -> str:
    """``day`` as a ``scheduled_date``."""
    return day.isoformat()


def assert_refused_past_date(response: httpx.Response) -> None:
    """422 validation_error naming the scheduled date, in the error shape."""
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["details"] == [{"field": "body.scheduled_date", "rule": "not_before_today"}]


def test_past_dates_are_refused_today_and_later_accepted(
    admin: tuple[httpx.Client, dict[str, str]], dated_clock: TestClock
) -> None:
    """Create: yesterday is 422; today and a later day are 201."""
    client, headers = admin
    today = server_today(dated_clock)
    assert_refused_past_date(
        client.post(
            "/v1/jobs", json=example_job(scheduled_date=on(today - timedelta(days=1))), headers=headers
        )
    )
    for day in (today, today + timedelta(days=30)):
        created = client.post("/v1/jobs", json=example_job(scheduled_date=on(day)), headers=headers)
        assert created.status_code == 201, created.text
        client.delete(f"/v1/jobs/{created.json()['id']}", headers=headers)


def test_the_test_clock_moves_today(
    dated_server: RunningServer, admin: tuple[httpx.Client, dict[str, str]], dated_clock: TestClock
) -> None:
    """A date that was today is refused once the server's clock has moved past it."""
    client, _ = admin
    was_today = server_today(dated_clock)
    dated_clock.advance(86_400)
    headers = bearer(login(client, seeded_accounts(dated_server)["acme"]["admin"])["token"])
    response = client.post("/v1/jobs", json=example_job(scheduled_date=on(was_today)), headers=headers)
    assert_refused_past_date(response)
    accepted = client.post("/v1/jobs", json=example_job(today=server_today(dated_clock)), headers=headers)
    assert accepted.status_code == 201, accepted.text
    client.delete(f"/v1/jobs/{accepted.json()['id']}", headers=headers)


def test_bulk_reports_each_past_item_and_creates_the_rest(
    admin: tuple[httpx.Client, dict[str, str]], dated_clock: TestClock
) -> None:
    """Bulk: the past item is an error by index, the future one is created."""
    client, headers = admin
    today = server_today(dated_clock)
    jobs = [example_job(scheduled_date=on(today - timedelta(days=3))), example_job(today=today)]
    response = client.post("/v1/jobs/bulk", json={"jobs": jobs}, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert [item["index"] for item in body["errors"]] == [0]
    assert body["errors"][0]["error"]["code"] == "validation_error"
    assert body["errors"][0]["error"]["details"] == [
        {"field": "body.scheduled_date", "rule": "not_before_today"}
    ]
    assert len(body["created"]) == 1
    client.delete(f"/v1/jobs/{body['created'][0]['id']}", headers=headers)


def test_patch_to_a_past_date_is_refused(
    admin: tuple[httpx.Client, dict[str, str]], dated_clock: TestClock
) -> None:
    """Patch: moving a job into the past is 422 and leaves it unchanged; other fields still change."""
    client, headers = admin
    today = server_today(dated_clock)
    job = client.post("/v1/jobs", json=example_job(today=today), headers=headers).json()
    path = f"/v1/jobs/{job['id']}"
    assert_refused_past_date(
        client.patch(path, json={"scheduled_date": on(today - timedelta(days=1))}, headers=headers)
    )
    assert client.get(path, headers=headers).json()["scheduled_date"] == job["scheduled_date"]
    assert client.patch(path, json={"notes": "still fine"}, headers=headers).status_code == 200
    client.delete(path, headers=headers)


def test_zapier_action_refuses_past_dates(
    dated_server: RunningServer, admin: tuple[httpx.Client, dict[str, str]], dated_clock: TestClock
) -> None:
    """The Zapier create-job action follows the same rule."""
    client, _ = admin
    key = seeded_accounts(dated_server)["acme"]["keys"]["jobs:read,jobs:write"]
    past = example_job(scheduled_date=on(server_today(dated_clock) - timedelta(days=1)))
    assert_refused_past_date(
        client.post("/zapier/v1/actions/create-job", json=past, headers={"X-API-Key": key})
    )


def test_the_clean_server_accepts_past_dates(api: httpx.Client, admin_token: str) -> None:
    """Without the variant a past date is accepted (the documentation leaves it open)."""
    headers = bearer(admin_token)
    created = api.post("/v1/jobs", json=example_job(scheduled_date="2020-01-01"), headers=headers)
    assert created.status_code == 201, created.text
    api.delete(f"/v1/jobs/{created.json()['id']}", headers=headers)
