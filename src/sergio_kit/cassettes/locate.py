"""Where the secrets are in a recorded exchange: one walk that the redactor uses to replace them and the
scanner uses to report them, so the two never disagree about what a secret is.

A :class:`SecretLocator` rewrites text, header values, URIs and bodies, handing every secret it meets to
a callback as a :class:`Found` (the secret, its kind, where it was) and putting what the callback returns
in its place: the redactor returns a ``<redacted:KIND:N>`` placeholder, the scanner records the find.

What counts as a secret:

- anywhere in text: JWTs, ``sk_live_``/``sk_test_`` keys, ``whsec_`` secrets (base64 or base64url, also
  URL-encoded), the known secrets (passwords; also URL- or JSON-encoded), ``name=value`` and
  ``"name": "value"`` for the :data:`~sergio_kit.reports.redaction.SECRET_FIELDS` names, the password of a
  ``Basic`` credential and of a URL's ``user:password@``;
- the values of the secret headers (:data:`HEADER_KINDS`; cookies: each value, not the attributes);
- in URIs, the query parameters with a secret name; in bodies, JSON fields with a secret name at any
  depth, form fields (``application/x-www-form-urlencoded``) and ``multipart/form-data`` parts with a
  secret name.

Existing placeholders are never reported or replaced.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, quote_plus, unquote, unquote_plus

from sergio_kit.reports.redaction import API_KEY, JWT, SECRET_FIELDS, WEBHOOK_SECRET

__all__ = [
    "HEADER_KINDS",
    "MIN_KNOWN_SECRET",
    "PLACEHOLDER",
    "Found",
    "Replace",
    "SecretLocator",
    "pattern_kind",
    "split_header",
    "usable_known_secrets",
]

PLACEHOLDER = re.compile(r"<redacted:([a-z-]+):(\d+)>")
#: The start of a placeholder, also URL-encoded or cut by a YAML line fold: never a secret.
_PLACEHOLDER_START = re.compile(r"(?:<|%3C)redacted", re.IGNORECASE)
#: Known secrets shorter than this are ignored: they would match ordinary text everywhere.
MIN_KNOWN_SECRET = 4
#: Headers whose values are secrets, and the kind their placeholder gets when no pattern says more.
HEADER_KINDS = {
    "authorization": "secret",
    "proxy-authorization": "secret",
    "x-api-key": "api-key",
    "cookie": "cookie",
    "set-cookie": "cookie",
    "x-sergio-signature": "signature",
    "x-sergio-clock-token": "clock-token",
}
#: A ``whsec_`` secret as :data:`WEBHOOK_SECRET` has it, or with ``+/=`` URL-encoded (in a query or form).
_WEBHOOK_SECRET_ANY = r"\bwhsec_(?:[A-Za-z0-9+/_-]|\\/|%2[BbFf]){8,}(?:=|%3[Dd]){0,2}"
_FIELD_NAMES = "|".join(sorted(SECRET_FIELDS, key=len, reverse=True))
#: The value of a ``name=value`` pair in text: up to ``&``, white space, ``#``, ``;``, a quote, a
#: backslash (a YAML escape) or ``>`` (the end of a ``<URL>``).
_ASSIGNED_VALUE = r"[^&\s#;'\"\\>]+"
_TEXT_PARTS = (
    f"(?P<ph>{PLACEHOLDER.pattern})",
    # name=value, at the start, after a separator or after a YAML escape such as \r\n
    rf"(?:(?<![\w.%-])|(?<=\\[nrt]))(?P<aname>(?i:{_FIELD_NAMES}))="
    rf"(?P<assign>{PLACEHOLDER.pattern}|{_ASSIGNED_VALUE})",
    # "name": "value" or "name": 123 (JSON that did not parse as a whole: NDJSON, a line of YAML)
    rf'"(?P<jname>(?i:{_FIELD_NAMES}))"\s*:\s*'
    rf'(?:"(?P<json>(?:[^"\\]|\\.)*)"|(?P<jnum>-?\d[\d.eE+-]*))',
    r"\b(?i:Basic)\s+(?P<basic>[A-Za-z0-9+/]{4,}={0,2})(?![\w+/=])",
    r"://[^/?#@\s:'\"]*:(?P<userinfo>[^/?#@\s'\"]+)@",
    f"(?P<jwt>{JWT.pattern})",
    f"(?P<apikey>{API_KEY.pattern})",
    f"(?P<whsec>{_WEBHOOK_SECRET_ANY})",
)
_FORM = re.compile(r"[\w.%*~+-]+=[^&\s]*(?:&[\w.%*~+-]+=[^&\s]*)*")
_MULTIPART_START = re.compile(r"--([!-~][ -~]{0,69})\r?\n")
_PART_NAME = re.compile(r'\bname\*?=(?:"((?:[^"\\]|\\.)*)"|([^;\s]+))', re.IGNORECASE)


@dataclass(frozen=True)
class Found:
    """One secret met by :class:`SecretLocator`.

    ``secret``: the secret itself, decoded (a URL-encoded form value, the password of a ``Basic``
    credential), the same wherever it appears; ``raw``: how it was written where it was found;
    ``kind``: a placeholder kind (``jwt``, ``api-key``, ``webhook-secret``, ``password``, ``cookie``,
    ...); ``where``: the place (``header authorization``, ``form field "password"``), or ``""`` for a
    secret found by its shape in text.
    """

    secret: str
    raw: str
    kind: str
    where: str = ""


#: What the locator calls for each secret: the text to put in its place.
Replace = Callable[[Found], str]


def usable_known_secrets(known_secrets: Iterable[str]) -> list[str]:
    """The distinct known secrets worth searching for (at least :data:`MIN_KNOWN_SECRET` long),
    longest first so a secret containing another is matched whole."""
    return sorted({s for s in known_secrets if len(s) >= MIN_KNOWN_SECRET}, key=len, reverse=True)


def pattern_kind(value: str) -> str | None:
    """``jwt``, ``api-key`` or ``webhook-secret`` when the whole of ``value`` is one, else ``None``."""
    for pattern, kind in ((JWT, "jwt"), (API_KEY, "api-key"), (WEBHOOK_SECRET, "webhook-secret")):
        if pattern.fullmatch(value):
            return kind
    return None


def split_header(name: str, value: str) -> list[tuple[str, bool]]:
    """``value`` cut into ``(text, is_secret)`` segments that join back to it.

    ``Authorization``: the credential after the scheme; ``Cookie``: every cookie value;
    ``Set-Cookie``: the cookie value, not its attributes; the other secret headers: the whole value.
    """
    lower = name.lower()
    if lower not in HEADER_KINDS:
        return [(value, False)]
    if lower in ("authorization", "proxy-authorization"):
        scheme = re.match(r"(\s*[A-Za-z][\w.+-]*\s+)(\S.*?)(\s*)$", value)
        if scheme is None:
            return [(value, True)]
        return [(scheme.group(1), False), (scheme.group(2), True), (scheme.group(3), False)]
    if lower in ("cookie", "set-cookie"):
        segments: list[tuple[str, bool]] = []
        pieces = re.split(r"(;\s*)", value)
        for index, piece in enumerate(pieces):
            if index % 2 or (lower == "set-cookie" and index > 0):
                segments.append((piece, False))
                continue
            cookie_name, equals, cookie_value = piece.partition("=")
            segments += [(cookie_name + equals, False), (cookie_value, True)] if equals else [(piece, True)]
        return segments
    return [(value, True)]


def is_placeholder(value: str) -> bool:
    """Whether ``value`` is a placeholder, or the start of one (URL-encoded, or cut by a line fold)."""
    return bool(PLACEHOLDER.fullmatch(value) or _PLACEHOLDER_START.match(value))


def basic_password(credential: str) -> str | None:
    """The password of a ``Basic`` credential (base64 of ``user:password``), or ``None`` when
    ``credential`` does not decode to that."""
    try:
        decoded = base64.b64decode(credential, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    _user, colon, password = decoded.partition(":")
    if not colon or not decoded.isprintable():
        return None
    return password


def _field_fallback(name: str) -> str:
    return "password" if name.lower() == "password" else "secret"


class SecretLocator:
    """Finds the secrets of text, headers, URIs and bodies and puts the callback's answer in their place.

    ``known_secrets``: literal strings that are secrets wherever they appear (the passwords in use),
    also found URL-encoded (``%40``, ``+``) or JSON-escaped; their kind is ``password``.
    """

    def __init__(self, known_secrets: Iterable[str] = ()) -> None:
        known = usable_known_secrets(known_secrets)
        self.known = frozenset(known)
        self._variants = {form: secret for secret in known for form in _encoded_forms(secret)}
        alternatives = sorted(self._variants, key=len, reverse=True)
        self._known_pattern = (
            re.compile("|".join(re.escape(form) for form in alternatives)) if alternatives else None
        )
        self._pattern = re.compile("|".join(_TEXT_PARTS))

    def kind_of(self, value: str, fallback: str) -> str:
        """``password`` for a known secret, else the kind its shape says, else ``fallback``."""
        if value in self.known:
            return "password"
        return pattern_kind(value) or fallback

    # -- text -----------------------------------------------------------------------------------------

    def text(self, text: str, replace: Replace) -> str:
        """``text`` with every secret it holds (known, by shape or by name) replaced.

        The known secrets go first, so that one holding ``&`` or ``;`` is replaced whole, not cut where
        a ``name=value`` ends; what ``replace`` put in their place must be a placeholder.
        """
        text = self._known(text, replace, "")

        def substitute(match: re.Match[str]) -> str:
            found = self._classify(match)
            if found is None:
                return match.group(0)
            group, item = found
            start, end = match.span(group)
            return (
                match.group(0)[: start - match.start()]
                + replace(item)
                + match.group(0)[end - match.start() :]
            )

        return self._pattern.sub(substitute, text)

    def _known(self, text: str, replace: Replace, where: str) -> str:
        """``text`` with the known secrets (in any of their encoded forms) replaced."""
        if self._known_pattern is None:
            return text
        return self._known_pattern.sub(
            lambda m: replace(Found(self._variants[m.group(0)], m.group(0), "password", where)), text
        )

    def _classify(self, match: re.Match[str]) -> tuple[str, Found] | None:
        """The group holding the secret of ``match`` and the find, or ``None`` (a placeholder, or a
        field whose value is one)."""
        if match.group("ph") is not None:
            return None
        if (raw := match.group("assign")) is not None:
            name = match.group("aname")
            if is_placeholder(raw) or is_placeholder(unquote_plus(raw)):
                return None
            value, kind = self._decoded(raw, _field_fallback(name), plus=True)
            return "assign", Found(value, raw, kind, f'field "{name}"')
        if (raw := match.group("json")) is not None:
            name = match.group("jname")
            try:
                value = json.loads(f'"{raw}"')
            except ValueError:
                value = raw
            if not value.strip() or is_placeholder(value):
                return None
            return "json", Found(
                value, raw, self.kind_of(value, _field_fallback(name)), f'JSON field "{name}"'
            )
        if (raw := match.group("jnum")) is not None:
            kind = self.kind_of(raw, _field_fallback(match.group("jname")))
            return "jnum", Found(raw, raw, kind, f'JSON field "{match.group("jname")}"')
        if (raw := match.group("basic")) is not None:
            password = basic_password(raw)
            if not password or is_placeholder(password):
                return None
            return "basic", Found(password, raw, self.kind_of(password, "password"), "Basic credential")
        if (raw := match.group("userinfo")) is not None:
            password = unquote(raw)
            if is_placeholder(raw) or is_placeholder(password):
                return None
            return "userinfo", Found(password, raw, self.kind_of(password, "password"), "URL user:password")
        for group, kind in (("jwt", "jwt"), ("apikey", "api-key"), ("whsec", "webhook-secret")):
            if (raw := match.group(group)) is not None:
                return group, Found(unquote(raw) if group == "whsec" else raw, raw, kind)
        return None

    # -- whole values, headers, URIs ------------------------------------------------------------------

    def value(self, value: str, fallback: str, where: str, replace: Replace) -> str:
        """A value that is a secret as a whole (a header's credential, a secret field's value), replaced;
        an empty value or a placeholder is kept."""
        if not value or is_placeholder(value):
            return value
        secret, kind = self._decoded(value, fallback, plus=False)
        return replace(Found(secret, value, kind, where))

    def _decoded(self, raw: str, fallback: str, *, plus: bool) -> tuple[str, str]:
        """The secret a written value stands for, and its kind: the value URL-decoded (``+`` a space
        when ``plus``, as in forms) or as written, whichever is a known secret or has a secret's shape;
        else the decoded value (forms) or the value as written, of kind ``fallback``."""
        candidates = [unquote_plus(raw), unquote(raw), raw] if plus else [raw, unquote(raw)]
        for candidate in candidates:
            if candidate in self.known:
                return candidate, "password"
        for candidate in candidates:
            if kind := pattern_kind(candidate):
                return candidate, kind
        return candidates[0], fallback

    def header(self, name: str, value: str, replace: Replace) -> str:
        """One header value: its secret parts (:func:`split_header`) replaced whole (for ``Basic``: by
        the password), the rest searched as text. Known secrets go first, so that a password with a
        space or a ``;`` is replaced whole, not cut where a scheme or a cookie ends."""
        lower = name.lower()
        fallback = HEADER_KINDS.get(lower, "secret")
        segments = split_header(name, self._known(value, replace, f"header {lower}"))
        out: list[str] = []
        for index, (text, secret) in enumerate(segments):
            if not secret:
                out.append(self.text(text, replace))
                continue
            scheme = segments[index - 1][0].strip().lower() if index else ""
            password = basic_password(text) if scheme == "basic" else None
            if password is not None and lower in ("authorization", "proxy-authorization"):
                if is_placeholder(password):
                    out.append(text)
                else:
                    where = f"header {lower} (Basic)"
                    out.append(replace(Found(password, text, self.kind_of(password, "password"), where)))
            else:
                out.append(self.value(text, fallback, f"header {lower}", replace))
        return "".join(out)

    def uri(self, uri: str, replace: Replace) -> str:
        """A request URI: its query parameters with a secret name replaced, everything searched as text
        (``user:password@``, tokens in the path)."""
        rest, hash_mark, fragment = uri.partition("#")
        base, question, query = rest.partition("?")
        base = self.text(base, replace)
        if question:
            query = self.form(query, replace, "query parameter")
        return base + question + query + hash_mark + (self.text(fragment, replace) if hash_mark else "")

    # -- bodies ---------------------------------------------------------------------------------------

    def body(self, text: str, replace: Replace) -> str:
        """A body (or any value): JSON field by field, a multipart or URL-encoded form part by part,
        anything else as text."""
        stripped = text.strip()
        if stripped[:1] in ("{", "["):
            try:
                data = json.loads(text)
            except ValueError:
                pass
            else:
                scrubbed = self.json(data, replace)
                if scrubbed == data:
                    return text
                return _json_text(scrubbed)
        boundary = _MULTIPART_START.match(text)
        if boundary:
            return self.multipart(text, boundary.group(1), replace)
        if _FORM.fullmatch(stripped):
            return self.form(text, replace, "form field")
        return self.text(text, replace)

    def json(self, data: Any, replace: Replace) -> Any:
        """A decoded JSON document with secret fields (at any depth) and secrets in strings replaced."""
        if isinstance(data, dict):
            return {key: self._json_field(key, value, replace) for key, value in data.items()}
        if isinstance(data, list):
            return [self.json(item, replace) for item in data]
        if isinstance(data, str):
            return self.text(data, replace)
        return data

    def _json_field(self, key: str, value: Any, replace: Replace) -> Any:
        if key.lower() not in SECRET_FIELDS:
            return self.json(value, replace)
        where, fallback = f'JSON field "{key}"', _field_fallback(key)
        if isinstance(value, str):
            return self.value(value, fallback, where, replace) if value.strip() else value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return self.value(json.dumps(value), fallback, where, replace)
        return self.json(value, replace)

    def form(self, text: str, replace: Replace, where: str) -> str:
        """``name=value&...`` (a form body or a query string): values of secret names replaced whole,
        the other values searched as text once URL-decoded."""
        pairs = text.split("&")
        out = []
        for pair in pairs:
            raw_name, equals, raw_value = pair.partition("=")
            name = unquote_plus(raw_name)
            if not equals:
                out.append(self.text(pair, replace))
                continue
            value = unquote_plus(raw_value)
            if name.lower() in SECRET_FIELDS and value.strip() and not is_placeholder(value):
                secret, kind = self._decoded(raw_value, _field_fallback(name), plus=True)
                out.append(raw_name + equals + replace(Found(secret, raw_value, kind, f'{where} "{name}"')))
                continue
            # as written first (a literal "+" in a secret), then URL-decoded as a form ("+" a space) and
            # as a URL ("+" itself): what "%2B" and "%26" stood for
            written = self.text(raw_value, replace)
            for decode in (unquote_plus, unquote):
                decoded = decode(written)
                searched = self.text(decoded, replace)
                if searched != decoded:
                    written = quote_plus(searched, safe="<>:")
            out.append(raw_name + equals + written)
        return "&".join(out)

    def multipart(self, text: str, boundary: str, replace: Replace) -> str:
        """A ``multipart/form-data`` body: parts with a secret name replaced whole, the others searched
        as bodies; part headers and the epilogue as text."""
        delimiter = "--" + boundary
        if any(self._classify(match) for match in self._pattern.finditer(delimiter)):
            return self.text(text, replace)  # a boundary that looks like a secret: not a form to trust
        pieces = text.split(delimiter)
        out = [self.text(pieces[0], replace)]
        for piece in pieces[1:]:
            out.append(self._part(piece, replace))
        return delimiter.join(out)

    def _part(self, piece: str, replace: Replace) -> str:
        if piece.startswith("--"):  # the closing delimiter and the epilogue
            return self.text(piece, replace)
        separator = re.search(r"\r?\n\r?\n", piece)
        if separator is None:
            return self.text(piece, replace)
        head, content = piece[: separator.end()], piece[separator.end() :]
        trail = re.search(r"\r?\n\Z", content)
        tail = content[trail.start() :] if trail else ""
        content = content[: trail.start()] if trail else content
        name_match = _PART_NAME.search(head)
        name = (name_match.group(1) or name_match.group(2) or "") if name_match else ""
        if name.lower() in SECRET_FIELDS and content.strip():
            where = f'multipart part "{name}"'
            content = self.value(content, _field_fallback(name), where, replace)
        else:
            content = self.body(content, replace)
        return self.text(head, replace) + content + tail


def _encoded_forms(secret: str) -> set[str]:
    """``secret`` as written raw, URL-encoded (``%XX`` or ``+`` for a space) and JSON-escaped."""
    forms = {secret, quote(secret, safe=""), quote_plus(secret, safe=""), quote(secret), quote_plus(secret)}
    forms.add(json.dumps(secret)[1:-1])
    forms.add(json.dumps(secret, ensure_ascii=False)[1:-1])
    return {form for form in forms if form}


def _json_text(data: Any) -> str:
    """``data`` as compact JSON, non-ASCII text kept as it is, unless a string holds a lone surrogate
    (an escaped ``\\ud800`` in the body it came from): then escaped, as UTF-8 cannot carry it."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    try:
        text.encode("utf-8", errors="surrogateescape")
    except UnicodeEncodeError:
        return json.dumps(data, separators=(",", ":"))
    return text
