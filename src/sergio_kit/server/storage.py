"""SQLite storage for companies, users, refresh-token families, jobs, webhooks and API keys.

One connection, used from the event loop only. Every method is synchronous and free of awaits, so
each call is atomic with respect to other requests: that is what makes refresh rotation and key
revocation race-free.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS companies (id TEXT PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY, company_id TEXT NOT NULL, email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL, role TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS refresh_families (
    id TEXT PRIMARY KEY, user_id TEXT NOT NULL, revoked INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS refresh_tokens (
    jti TEXT PRIMARY KEY, family_id TEXT NOT NULL, used INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, company_id TEXT NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS jobs_company ON jobs (company_id, seq);
CREATE TABLE IF NOT EXISTS webhooks (
    id TEXT PRIMARY KEY, company_id TEXT NOT NULL, url TEXT NOT NULL, events TEXT NOT NULL,
    secret TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS api_keys (
    id TEXT PRIMARY KEY, company_id TEXT NOT NULL, name TEXT NOT NULL, scopes TEXT NOT NULL,
    prefix TEXT NOT NULL, created_at TEXT NOT NULL, revoked INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS api_key_secrets (
    lookup_id TEXT PRIMARY KEY, key_id TEXT NOT NULL, key_hash TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1);
"""


@dataclass(frozen=True)
class User:
    """A user of one company."""

    id: str
    company_id: str
    email: str
    password_hash: str
    role: str


@dataclass(frozen=True)
class ApiKeyRecord:
    """An API key as stored (never the key itself)."""

    id: str
    company_id: str
    name: str
    scopes: tuple[str, ...]
    prefix: str
    created_at: str
    revoked: bool

    def public(self) -> dict[str, Any]:
        """The key as ``GET /v1/api-keys`` shows it: no secret."""
        return {
            "id": self.id,
            "name": self.name,
            "scopes": list(self.scopes),
            "prefix": self.prefix,
            "created_at": self.created_at,
        }


@dataclass(frozen=True)
class KeySecret:
    """One secret of an API key, found by its lookup id."""

    lookup_id: str
    key_id: str
    key_hash: str
    active: bool


class Database:
    """The reference server's SQLite database (a file in the data folder)."""

    def __init__(self, path: Path) -> None:
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    # -- companies and users ------------------------------------------------------------------
    def is_empty(self) -> bool:
        """Whether nothing has been seeded yet."""
        return bool(self._db.execute("SELECT COUNT(*) FROM companies").fetchone()[0] == 0)

    def add_company(self, company_id: str, name: str) -> None:
        """Create a company."""
        self._db.execute("INSERT INTO companies VALUES (?, ?)", (company_id, name))

    def company_name(self, company_id: str) -> str:
        """A company's display name."""
        row = self._db.execute("SELECT name FROM companies WHERE id = ?", (company_id,)).fetchone()
        return str(row["name"]) if row else ""

    def add_user(self, user: User) -> None:
        """Create a user."""
        self._db.execute(
            "INSERT INTO users VALUES (?, ?, ?, ?, ?)",
            (user.id, user.company_id, user.email, user.password_hash, user.role),
        )

    def user_by_email(self, email: str) -> User | None:
        """Find a user by email (case-insensitive)."""
        row = self._db.execute("SELECT * FROM users WHERE lower(email) = lower(?)", (email,)).fetchone()
        return User(**dict(row)) if row else None

    def user_by_id(self, user_id: str) -> User | None:
        """Find a user by id."""
        row = self._db.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()
        return User(**dict(row)) if row else None

    def first_admin(self) -> User:
        """The first seeded admin (used only by the ``auth.bearer.missing`` fault)."""
        row = self._db.execute("SELECT * FROM users WHERE role = 'admin' ORDER BY rowid LIMIT 1").fetchone()
        return User(**dict(row))

    def other_user(self, user_id: str) -> User | None:
        """A user other than ``user_id``, of the same company when it has one (used only by the
        ``refresh.claims@identity`` fault)."""
        row = self._db.execute(
            "SELECT * FROM users WHERE id != ? ORDER BY company_id = "
            "(SELECT company_id FROM users WHERE id = ?) DESC, rowid LIMIT 1",
            (user_id, user_id),
        ).fetchone()
        return User(**dict(row)) if row else None

    # -- refresh-token families ----------------------------------------------------------------
    def start_family(self, family_id: str, user_id: str, first_jti: str) -> None:
        """Open a refresh-token family (one login) with its first token."""
        self._db.execute("INSERT INTO refresh_families (id, user_id) VALUES (?, ?)", (family_id, user_id))
        self._db.execute("INSERT INTO refresh_tokens (jti, family_id) VALUES (?, ?)", (first_jti, family_id))

    def refresh_state(self, jti: str) -> tuple[str, bool, bool] | None:
        """``(family_id, used, family_revoked)`` of a refresh token, or ``None`` if unknown."""
        row = self._db.execute(
            "SELECT t.family_id, t.used, f.revoked FROM refresh_tokens t "
            "JOIN refresh_families f ON f.id = t.family_id WHERE t.jti = ?",
            (jti,),
        ).fetchone()
        if row is None:
            return None
        return str(row["family_id"]), bool(row["used"]), bool(row["revoked"])

    def rotate_refresh(self, old_jti: str, new_jti: str, family_id: str) -> None:
        """Mark ``old_jti`` used and add ``new_jti`` to the same family."""
        self._db.execute("UPDATE refresh_tokens SET used = 1 WHERE jti = ?", (old_jti,))
        self._db.execute("INSERT INTO refresh_tokens (jti, family_id) VALUES (?, ?)", (new_jti, family_id))

    def revoke_family(self, family_id: str) -> None:
        """Kill every refresh token of a family."""
        self._db.execute("UPDATE refresh_families SET revoked = 1 WHERE id = ?", (family_id,))

    def revoke_user_families(self, user_id: str) -> None:
        """Kill every refresh-token family of a user."""
        self._db.execute("UPDATE refresh_families SET revoked = 1 WHERE user_id = ?", (user_id,))

    def family_owner(self, family_id: str) -> str | None:
        """The user a family belongs to."""
        row = self._db.execute("SELECT user_id FROM refresh_families WHERE id = ?", (family_id,)).fetchone()
        return str(row["user_id"]) if row else None

    # -- jobs ------------------------------------------------------------------------------------
    def insert_job(self, company_id: str, job: dict[str, Any]) -> None:
        """Store a new job document."""
        self._db.execute(
            "INSERT INTO jobs (id, company_id, doc) VALUES (?, ?, ?)",
            (job["id"], company_id, json.dumps(job)),
        )

    def get_job(
        self, company_id: str | None, job_id: str, include_deleted: bool = False
    ) -> dict[str, Any] | None:
        """A job of ``company_id`` (any company when ``None``), or ``None``."""
        sql = "SELECT doc FROM jobs WHERE id = ?"
        params: list[Any] = [job_id]
        if company_id is not None:
            sql += " AND company_id = ?"
            params.append(company_id)
        if not include_deleted:
            sql += " AND deleted = 0"
        row = self._db.execute(sql, params).fetchone()
        return json.loads(row["doc"]) if row else None

    def job_position(self, company_id: str, job_id: str) -> int | None:
        """The insertion sequence number of a company's job, deleted or not (the paging cursor)."""
        row = self._db.execute(
            "SELECT seq FROM jobs WHERE id = ? AND company_id = ?", (job_id, company_id)
        ).fetchone()
        return int(row["seq"]) if row else None

    def list_jobs(self, company_id: str | None, after_seq: int, limit: int) -> list[tuple[str, str]]:
        """Up to ``limit`` live jobs after ``after_seq``, oldest first, as ``(id, JSON text)`` (of every
        company when ``company_id`` is ``None``)."""
        params: list[Any]
        if company_id is None:
            sql, params = "SELECT id, doc FROM jobs WHERE deleted = 0 AND seq > ?", [after_seq]
        else:
            sql = "SELECT id, doc FROM jobs WHERE company_id = ? AND deleted = 0 AND seq > ?"
            params = [company_id, after_seq]
        rows = self._db.execute(sql + " ORDER BY seq LIMIT ?", [*params, limit]).fetchall()
        return [(str(row["id"]), str(row["doc"])) for row in rows]

    def newest_jobs(self, company_id: str | None, limit: int) -> list[dict[str, Any]]:
        """The newest live jobs, newest first (of every company when ``company_id`` is ``None``)."""
        sql = "SELECT doc FROM jobs WHERE deleted = 0"
        params: list[Any] = []
        if company_id is not None:
            sql += " AND company_id = ?"
            params.append(company_id)
        rows = self._db.execute(sql + " ORDER BY seq DESC LIMIT ?", [*params, limit]).fetchall()
        return [json.loads(row["doc"]) for row in rows]

    def replace_job(self, job: dict[str, Any]) -> None:
        """Overwrite a job document."""
        self._db.execute("UPDATE jobs SET doc = ? WHERE id = ?", (json.dumps(job), job["id"]))

    def delete_job(self, job_id: str) -> None:
        """Delete a job (soft: the row stays so cursors keep their order)."""
        self._db.execute("UPDATE jobs SET deleted = 1 WHERE id = ?", (job_id,))

    # -- webhooks --------------------------------------------------------------------------------
    def add_webhook(self, company_id: str, webhook: dict[str, Any], secret: str) -> None:
        """Store a webhook endpoint and its signing secret."""
        self._db.execute(
            "INSERT INTO webhooks VALUES (?, ?, ?, ?, ?, ?)",
            (
                webhook["id"],
                company_id,
                webhook["url"],
                json.dumps(webhook["events"]),
                secret,
                webhook["created_at"],
            ),
        )

    def list_webhooks(self, company_id: str | None) -> list[tuple[dict[str, Any], str]]:
        """A company's webhook endpoints with their secrets, oldest first (every company's when
        ``company_id`` is ``None``)."""
        sql, params = "SELECT * FROM webhooks", []
        if company_id is not None:
            sql, params = sql + " WHERE company_id = ?", [company_id]
        rows = self._db.execute(sql + " ORDER BY rowid", params).fetchall()
        return [
            (
                {
                    "id": r["id"],
                    "url": r["url"],
                    "events": json.loads(r["events"]),
                    "created_at": r["created_at"],
                },
                str(r["secret"]),
            )
            for r in rows
        ]

    def webhooks_for(self, company_id: str, event: str) -> list[tuple[dict[str, Any], str]]:
        """A company's endpoints subscribed to ``event``, with their secrets, oldest first. SQLite skips
        the others (their events, JSON text, lack the quoted name), so each job event costs the same
        however many endpoints listen for other events (a load run registers many)."""
        rows = self._db.execute(
            "SELECT * FROM webhooks WHERE company_id = ? AND instr(events, ?) > 0 ORDER BY rowid",
            (company_id, json.dumps(event)),
        ).fetchall()
        found = []
        for r in rows:
            events = json.loads(r["events"])
            if event in events:
                webhook = {"id": r["id"], "url": r["url"], "events": events, "created_at": r["created_at"]}
                found.append((webhook, str(r["secret"])))
        return found

    def delete_webhook(self, company_id: str | None, webhook_id: str) -> bool:
        """Delete a company's webhook endpoint (any company's when ``company_id`` is ``None``);
        ``False`` if there was none."""
        sql, params = "DELETE FROM webhooks WHERE id = ?", [webhook_id]
        if company_id is not None:
            sql, params = sql + " AND company_id = ?", [webhook_id, company_id]
        cursor = self._db.execute(sql, params)
        return cursor.rowcount > 0

    def webhook_exists(self, webhook_id: str) -> bool:
        """Whether any company has a webhook endpoint ``webhook_id``."""
        return self._db.execute("SELECT 1 FROM webhooks WHERE id = ?", (webhook_id,)).fetchone() is not None

    # -- API keys --------------------------------------------------------------------------------
    def add_api_key(self, record: ApiKeyRecord, secret: KeySecret) -> None:
        """Store a new API key (metadata and its first secret)."""
        self._db.execute(
            "INSERT INTO api_keys VALUES (?, ?, ?, ?, ?, ?, 0)",
            (
                record.id,
                record.company_id,
                record.name,
                json.dumps(record.scopes),
                record.prefix,
                record.created_at,
            ),
        )
        self.add_key_secret(secret)

    def add_key_secret(self, secret: KeySecret) -> None:
        """Add a secret to an existing key."""
        self._db.execute(
            "INSERT INTO api_key_secrets VALUES (?, ?, ?, ?)",
            (secret.lookup_id, secret.key_id, secret.key_hash, int(secret.active)),
        )

    def deactivate_key_secrets(self, key_id: str) -> None:
        """Make every current secret of a key stop working."""
        self._db.execute("UPDATE api_key_secrets SET active = 0 WHERE key_id = ?", (key_id,))

    def set_key_prefix(self, key_id: str, prefix: str) -> None:
        """Record the visible prefix of a key's newest secret."""
        self._db.execute("UPDATE api_keys SET prefix = ? WHERE id = ?", (prefix, key_id))

    def key_secret(self, lookup_id: str) -> KeySecret | None:
        """A key secret by its lookup id."""
        row = self._db.execute("SELECT * FROM api_key_secrets WHERE lookup_id = ?", (lookup_id,)).fetchone()
        if row is None:
            return None
        return KeySecret(row["lookup_id"], row["key_id"], row["key_hash"], bool(row["active"]))

    def api_key(self, key_id: str, company_id: str | None = None) -> ApiKeyRecord | None:
        """An API key's metadata (restricted to ``company_id`` when given)."""
        sql, params = "SELECT * FROM api_keys WHERE id = ?", [key_id]
        if company_id is not None:
            sql += " AND company_id = ?"
            params.append(company_id)
        row = self._db.execute(sql, params).fetchone()
        return _key_record(row) if row else None

    def list_api_keys(self, company_id: str | None) -> list[ApiKeyRecord]:
        """A company's live API keys, oldest first (every company's when ``company_id`` is ``None``)."""
        sql, params = "SELECT * FROM api_keys WHERE revoked = 0", []
        if company_id is not None:
            sql, params = sql + " AND company_id = ?", [company_id]
        rows = self._db.execute(sql + " ORDER BY rowid", params).fetchall()
        return [_key_record(row) for row in rows]

    def first_api_key(self) -> ApiKeyRecord:
        """The first seeded key (used only by the ``apikey.missing`` fault)."""
        return _key_record(self._db.execute("SELECT * FROM api_keys ORDER BY rowid LIMIT 1").fetchone())

    def revoke_api_key(self, key_id: str) -> None:
        """Revoke a key at once."""
        self._db.execute("UPDATE api_keys SET revoked = 1 WHERE id = ?", (key_id,))


def _key_record(row: sqlite3.Row) -> ApiKeyRecord:
    return ApiKeyRecord(
        id=row["id"],
        company_id=row["company_id"],
        name=row["name"],
        scopes=tuple(json.loads(row["scopes"])),
        prefix=row["prefix"],
        created_at=row["created_at"],
        revoked=bool(row["revoked"]),
    )
