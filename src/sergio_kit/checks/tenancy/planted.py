"""Objects of the first company planted for the tenancy checks, and what their owner sees of them.

Each object carries a marker nobody but its owner was ever sent: a random token in a job's notes, in
a webhook's URL (a query parameter) or in an API key's name, and a webhook's signing secret or a key's
secret part. A response to anyone else that shows one of them shows the object's data (its id is no
such marker where the caller sent it: an error may echo the id it was given). The planted objects are
shared by the checks of a run (``ctx.memo``) and removed when the context closes; one that a breach
changed is planted anew for the next check.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import httpx

from sergio_kit.checks.apikey import SECRET_LENGTH, path_of, works_probe
from sergio_kit.checks.context import PRIMARY, SUCCESS, CheckContext
from sergio_kit.checks.operation_facts import filled, object_kind
from sergio_kit.checks.tenancy.listing import items_of, pages
from sergio_kit.contract.document import Operation
from sergio_kit.reports.findings import CheckSkipped

MEMO = "tenancy.planted"  # ctx.memo: the run's Garden
#: A read of a removed object: it is gone.
GONE = frozenset({404, 410})


@dataclass(frozen=True)
class Kind:
    """A kind of object the checks plant."""

    name: str  # as :func:`~sergio_kit.checks.operation_facts.object_kind` names it
    label: str  # as messages name it
    collection: str  # where it is made (POST) and listed (GET)
    removed: str  # what a removal did to it, as a finding says


KINDS = {
    "job": Kind("job", "job", "/v1/jobs", "deleted"),
    "webhook": Kind("webhook", "webhook", "/v1/webhooks", "deleted"),
    "key": Kind("key", "API key", "/v1/api-keys", "revoked"),
}
#: Where each kind carries the random marker.
MARKED = {"job": "its notes", "webhook": "its URL", "key": "its name"}


@dataclass(frozen=True)
class Planted:
    """One planted object: its kind, id, the markers of its data and (an API key) the key itself."""

    kind: Kind
    id: str
    markers: tuple[tuple[str, str], ...]  # (what it is, its value)
    key: str = ""

    def shown_in(self, response: httpx.Response, *, by_id: bool = False) -> str | None:
        """What of this object's data ``response`` shows in its body or a header (``its notes``,
        ``its signing secret``...; ``its id`` too when ``by_id``, for a caller that never sent it),
        or ``None``."""
        markers = [*self.markers, *([("its id", self.id)] if by_id else [])]
        texts = [response.text, *response.headers.values()]
        return next((what for what, value in markers if any(value in text for text in texts)), None)


@dataclass(frozen=True)
class View:
    """What the owner sees of a planted object: whether it is there, its state (as read), and, for an
    API key, the status the key gets where the kit tries a key."""

    present: bool
    state: Any = None
    works: int | None = None

    def change_since(self, before: View, kind: Kind) -> str | None:
        """How the object changed since ``before``, as a finding says it, or ``None``."""
        if self == before:
            return None
        if before.present and not self.present:
            return f"{kind.removed} this company's {kind.label}"
        if before.works == 200 and self.works != 200:
            return f"made this company's {kind.label} stop working (rotated or revoked: got {self.works})"
        return f"changed this company's {kind.label}"


class Garden:
    """The planted objects of one run, made on first use."""

    def __init__(self, ctx: CheckContext) -> None:
        self.ctx = ctx
        self._planted: dict[str, Planted] = {}

    def plant(self, kind: str) -> Planted:
        """The planted object of ``kind`` (``job``, ``webhook``, ``key``), made now if needed; skips
        when the contract cannot make one (or, for a key, the target refuses it)."""
        if kind not in self._planted:
            self._planted[kind] = self._make(KINDS[kind])
        return self._planted[kind]

    def alive(self, kind: str) -> tuple[Planted, View | None]:
        """The planted object of ``kind`` as its owner sees it now (made anew when it is gone: removed
        since, by whatever), and that view (``None`` when the contract declares no way to see it)."""
        target = self.plant(kind)
        seen = self.view(target)
        if seen is not None and not seen.present:
            self.forget(kind)
            target = self.plant(kind)
            seen = self.view(target)
        return target, seen

    def plant_every_kind(self) -> tuple[list[Planted], list[str]]:
        """Every kind that can be planted, and why each other one cannot."""
        planted, missing = [], []
        for kind in KINDS:
            try:
                planted.append(self.plant(kind))
            except CheckSkipped as why:
                missing.append(f"no {KINDS[kind].label} ({why})")
        return planted, missing

    def forget(self, kind: str) -> None:
        """Plant ``kind`` anew next time: a breach changed or removed the one planted."""
        self._planted.pop(kind, None)

    def _make(self, kind: Kind) -> Planted:
        ctx, marker = self.ctx, "tenancy" + secrets.token_hex(8)
        key, markers = "", []
        if kind.name == "key":
            response = ctx.create_api_key(["jobs:read"], f"sergio-kit {marker}", PRIMARY)
            key = str(response.json()["key"])
            markers.append(("its key's secret part", key[-SECRET_LENGTH:]))
        else:
            ctx.require(f"POST {kind.collection}", f"to make a {kind.label} to test with")
            if kind.name == "job":
                body = ctx.job(notes=f"sergio-kit {marker}")
            else:
                body = ctx.target.samples.webhook(["job.created"])
                body["url"] = with_marker(str(body["url"]), marker)
            response = ctx.send("POST", kind.collection, token=ctx.token(PRIMARY), json=body)
            ctx.setup_step(response, SUCCESS, f"could not create a {kind.label} to test with")
            secret = response.json().get("secret")
            if kind.name == "webhook" and isinstance(secret, str) and len(secret) >= 8:
                markers.append(("its signing secret", secret))
        object_id = str(response.json()["id"])
        ctx.remove_later(PRIMARY, f"{kind.collection}/{object_id}")
        if marker in response.text:  # a deployment that keeps no notes (or names) has no such marker
            markers.insert(0, (MARKED[kind.name], marker))
        return Planted(kind, object_id, tuple(markers), key)

    def view(self, planted: Planted) -> View | None:
        """The owner's view of ``planted``: read on its own where the contract declares that, else
        found in its list (a key: and the status it gets where the kit tries keys); ``None`` when the
        contract declares no way to see it."""
        ctx, kind = self.ctx, planted.kind
        works = self._works(planted.key) if planted.key else None
        read = self._operation(kind, single=True)
        if read is not None:
            response = ctx.send("GET", filled(read, planted.id), token=ctx.token(PRIMARY))
            if response.status_code in GONE:
                return View(False, works=works)
            ctx.setup_step(response, {200}, f"could not read this company's {kind.label} back")
            return View(True, response.json(), works)
        listing = self._operation(kind, single=False)
        if listing is not None:
            for response in pages(ctx, listing, token=ctx.token(PRIMARY)):
                ctx.setup_step(response, {200}, f"could not list this company's {kind.label}s")
                found = [item for item in items_of(response) if item.get("id") == planted.id]
                if found:
                    return View(True, found[0], works)
            return View(False, works=works)
        return View(True, works=works) if works is not None else None

    def _operation(self, kind: Kind, *, single: bool) -> Operation | None:
        """The bearer ``GET`` that reads one object of ``kind`` (``single``) or lists them."""
        for operation in self.ctx.protected("bearerAuth"):
            if operation.method != "GET":
                continue
            if (object_kind(operation) == kind.name) if single else operation.path == kind.collection:
                return operation
        return None

    def _works(self, key: str) -> int | None:
        """The status ``key`` gets where the kit tries a key, or ``None`` when the contract has no such
        operation."""
        try:
            label = works_probe(self.ctx)
        except CheckSkipped:
            return None
        return self.ctx.send("GET", path_of(label), api_key=key).status_code


def garden(ctx: CheckContext) -> Garden:
    """The run's planted objects (one :class:`Garden` per context)."""
    found = ctx.memo.get(MEMO)
    if not isinstance(found, Garden):
        found = ctx.memo[MEMO] = Garden(ctx)
    return found


def with_marker(url: str, marker: str) -> str:
    """``url`` with a ``sergio-kit=<marker>`` query parameter added."""
    return url + ("&" if "?" in url else "?") + f"sergio-kit={marker}"
