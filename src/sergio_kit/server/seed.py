"""Seed the test accounts from ``sergio_kit/server/accounts.toml`` into an empty database.

Passwords come from the accounts file; API keys are generated at the first start. Both are written
to ``credentials.json`` in the data folder (mode 600), which is where clients read them from.
"""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path
from typing import Any

from sergio_kit.server.routes.api_keys import create_key
from sergio_kit.server.security.passwords import hash_password
from sergio_kit.server.storage import Database, User
from sergio_kit.server.timefmt import rfc3339

CREDENTIALS_FILE = "credentials.json"


def seed_if_empty(db: Database, accounts_file: Path, data_dir: Path, now: float) -> Path:
    """Seed an empty database; return the path of ``credentials.json``."""
    credentials = data_dir / CREDENTIALS_FILE
    if not db.is_empty():
        return credentials
    with open(accounts_file, "rb") as handle:
        accounts = tomllib.load(handle)
    written: dict[str, Any] = {"companies": []}
    for company in accounts["companies"]:
        db.add_company(company["id"], company["name"])
        users = []
        for index, user in enumerate(company["users"]):
            user_id = f"usr_{company['id'].removeprefix('cmp_')}{index}"
            db.add_user(
                User(user_id, company["id"], user["email"], hash_password(user["password"]), user["role"])
            )
            users.append(
                {"id": user_id, "email": user["email"], "password": user["password"], "role": user["role"]}
            )
        keys = []
        for key_spec in company.get("api_keys", []):
            record, key = create_key(db, company["id"], key_spec["name"], key_spec["scopes"], rfc3339(now))
            keys.append({"id": record.id, "name": record.name, "scopes": list(record.scopes), "key": key})
        written["companies"].append(
            {"id": company["id"], "name": company["name"], "users": users, "api_keys": keys}
        )
    credentials.write_text(json.dumps(written, indent=2) + "\n")
    os.chmod(credentials, 0o600)
    return credentials
