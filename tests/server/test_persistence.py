"""The data folder survives a restart: jobs, API keys, the test CA, the signing secret and the accounts."""

from __future__ import annotations

from pathlib import Path

from sergio_kit.target.embedded import start_server
from tests.support.api import JOB, bearer, client_for, login, seeded_accounts


def test_a_restarted_server_keeps_its_data(tmp_path: Path, server_template: Path) -> None:
    """After stop and start on the same data folder: the job, the created key, the CA file, the signing
    secret (an old token still verifies) and the login all still work."""
    data_dir = tmp_path / "d"
    first = start_server(data_dir, template=server_template)
    try:
        ca_before = first.ca_cert.read_bytes()
        with client_for(first) as client:
            session = login(client, seeded_accounts(first)["acme"]["admin"])
            headers = bearer(session["token"])
            job = client.post("/v1/jobs", json=JOB, headers=headers)
            assert job.status_code == 201
            key = client.post("/v1/api-keys", json={"name": "kept", "scopes": ["jobs:read"]}, headers=headers)
            assert key.status_code == 201
    finally:
        first.stop()
    assert first.process.returncode is not None

    second = start_server(data_dir)  # no template: nothing is copied over the folder
    try:
        assert second.ca_cert.read_bytes() == ca_before
        with client_for(second) as client:  # trusts the CA read from the kept file
            fresh = login(client, seeded_accounts(second)["acme"]["admin"])
            fetched = client.get(f"/v1/jobs/{job.json()['id']}", headers=bearer(fresh["token"]))
            assert fetched.status_code == 200 and fetched.json() == job.json()
            me = client.get("/zapier/v1/me", headers={"X-API-Key": key.json()["key"]})
            assert me.status_code == 200 and me.json()["key_id"] == key.json()["id"]
            listed = client.get("/v1/api-keys", headers=bearer(fresh["token"])).json()["data"]
            assert key.json()["id"] in {entry["id"] for entry in listed}
            assert client.get("/v1/jobs", headers=headers).status_code == 200  # same signing secret
            refreshed = client.post("/v1/auth/refresh", json={"refresh_token": session["refresh_token"]})
            assert refreshed.status_code == 200, refreshed.text  # refresh families are stored too
    finally:
        second.stop()
