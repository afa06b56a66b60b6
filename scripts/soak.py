#!/usr/bin/env python3
"""Soak test of a running sessions-gateway (Python 3.11, standard library only).

    soak.py generate FILE          write a deterministic import document
    soak.py principals FILE        list the tokens to mint: "student|staff <user id> <sub>"
    soak.py run --base URL --pid PID --duration S --connections N \
                --tokens-file F --data FILE

`run` keeps N persistent HTTP/1.1 connections busy for S seconds with a random mix of valid,
malformed and hostile requests, checks every answer against the data set, samples the server's
RSS every 5 s, and prints a summary. Exit status 0 means PASS. `scripts/soak.sh` drives it.
Requests go only to the --base address, which must be on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import base64
import collections
import datetime as dt
import hashlib
import hmac
import http.client
import json
import os
import random
import re
import sys
import threading
import time
import urllib.parse
import uuid

SEED = 20270101
N_CENTERS = 10
N_USERS = 500
N_TEACHERS = 20
N_SESSIONS = 3000
STAFF_EVERY = 25  # users 0, 25, 50, ... are staff members (20 of them)
# GATEWAY_REQUEST_TIMEOUT_MS is 10 s by default: any answer slower than this is wrong.
SLOW_SECONDS = 12.0

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


# --------------------------------------------------------------------------------------------
# Data set


def fixed_guid(prefix: str, n: int) -> str:
    return f"{prefix}-0000-4000-8000-{n:012x}"


def format_time(rng: random.Random, micros: int) -> str:
    """An import timestamp for `micros` since the epoch, in one of the accepted spellings."""
    instant = EPOCH + dt.timedelta(microseconds=micros)
    style = rng.random()
    if style < 0.45:
        offset = dt.timedelta(0)
        suffix = "+00:00"
    elif style < 0.60:
        offset = dt.timedelta(0)
        suffix = "Z"
    elif style < 0.72:
        offset = dt.timedelta(hours=2)
        suffix = "+02:00"
    elif style < 0.84:
        offset = -dt.timedelta(hours=5, minutes=30)
        suffix = "-0530"
    else:
        offset = dt.timedelta(0)
        suffix = ""  # no offset means UTC
    local = (instant + offset).replace(tzinfo=None)
    sep = " " if rng.random() < 0.1 else "T"
    text = local.strftime(f"%Y-%m-%d{sep}%H:%M:%S")
    if local.microsecond:
        # Seven digits as .NET writes them; the seventh is below the microsecond and is
        # truncated by the gateway, which the expectations below account for.
        text += f".{local.microsecond:06d}{rng.randrange(10)}"
    return text + suffix


def generate(path: str) -> None:
    rng = random.Random(SEED)
    centers = [
        {"id": fixed_guid("c0000000", i + 1), "name": f"Center {i + 1}"} for i in range(N_CENTERS)
    ]
    center_ids = [c["id"] for c in centers]
    users = []
    for n in range(N_USERS):
        user = {
            "id": fixed_guid("a1000000", n + 1),
            "login": f"user.{n}",
            "displayName": f"User {n}",
            "centers": rng.sample(center_ids, rng.choice([1, 1, 2])),
        }
        if n % STAFF_EVERY == 0:
            user["staffCenters"] = rng.sample(center_ids, rng.choice([1, 2, 3]))
        users.append(user)
    teachers = []
    for t in range(N_TEACHERS):
        teachers.append(
            {
                "id": fixed_guid("b1000000", t + 1),
                "name": f"Teacher {t + 1}",
                "contact": None if t % 4 == 3 else f"teacher{t + 1}@example.org",
                "photo": None if t % 5 == 4 else f"https://example.org/photos/t{t + 1}.jpg",
            }
        )
    base = int(dt.datetime(2027, 1, 1, tzinfo=dt.timezone.utc).timestamp()) * 1_000_000
    sessions = []
    starts = []  # (micros, attendees) of earlier sessions, to make ties on purpose
    odd_urls = [
        'https://meet.example.org/s/{n}?q="quoted"&b=back\\slash',
        "https://meet.example.org/s/{n}/café-ü-日本",
        "https://meet.example.org/s/{n}/sep\u2028line\u0085end",
        "https://meet.example.org/s/{n}/tab\there",
    ]
    for n in range(N_SESSIONS):
        attendees = [u["id"] for u in rng.sample(users, rng.randint(1, 3))]
        if starts and rng.random() < 0.08:
            # Same start instant as an earlier session shared by one attendee: the order is then
            # decided by the session id.
            micros, earlier = rng.choice(starts)
            if earlier[0] not in attendees:
                attendees[0] = earlier[0]
        else:
            micros = base + rng.randrange(0, 60 * 24 * 4) * 15 * 60 * 1_000_000
            if rng.random() < 0.3:
                micros += rng.randrange(1, 60_000_000)
        starts.append((micros, attendees))
        end = micros + rng.randrange(30, 91) * 60 * 1_000_000
        if n % 97 == 5:
            url = rng.choice(odd_urls).format(n=n)
        else:
            url = f"https://meet.example.org/s/{n}"
        sessions.append(
            {
                "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "teacherId": rng.choice(teachers)["id"],
                "partnerId": fixed_guid("e1000000", rng.randrange(1, 6)),
                "contentItemId": fixed_guid("f1000000", rng.randrange(1, 200)),
                "meetingUrl": url,
                "startDateTime": format_time(rng, micros),
                "endDateTime": format_time(rng, end),
                "attendees": attendees,
            }
        )
    document = {"centers": centers, "users": users, "teachers": teachers, "sessions": sessions}
    with open(path, "w", encoding="utf-8") as f:
        json.dump(document, f, ensure_ascii=False, indent=1)
        f.write("\n")


TIME_RE = re.compile(
    r"^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)?$"
)


def parse_micros(text: str) -> int | None:
    """Microseconds since the epoch; fraction digits past the microsecond are truncated."""
    m = TIME_RE.match(text)
    if not m:
        return None
    y, mo, d, h, mi, s, frac, off = m.groups()
    value = dt.datetime(int(y), int(mo), int(d), int(h), int(mi), int(s), tzinfo=dt.timezone.utc)
    micros = (value - EPOCH) // dt.timedelta(microseconds=1)
    if frac:
        micros += int((frac + "000000")[:6])
    if off and off != "Z":
        sign = 1 if off[0] == "+" else -1
        digits = off[1:].replace(":", "")
        micros -= sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60) * 1_000_000
    return micros


class DataSet:
    def __init__(self, path: str):
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        self.users = {u["id"]: u for u in doc["users"]}
        self.user_centers = {u["id"]: set(u.get("centers", [])) for u in doc["users"]}
        self.staff_centers = {
            u["id"]: set(u["staffCenters"]) for u in doc["users"] if u.get("staffCenters")
        }
        per_user: dict[str, dict[str, tuple]] = collections.defaultdict(dict)
        for s in doc["sessions"]:
            start = parse_micros(s["startDateTime"])
            assert start is not None, s["startDateTime"]
            for attendee in s["attendees"]:
                per_user[attendee][s["id"]] = (start, s["id"], s["meetingUrl"])
        # The expected answer: the user's sessions by start instant, then session id.
        self.expected: dict[str, list[tuple[str, int]]] = {}
        for user_id in self.users:
            rows = sorted(per_user.get(user_id, {}).values())
            self.expected[user_id] = [(url, start) for start, _, url in rows]
        # Whom each staff member may read (besides themself) and whom not.
        self.staff_allowed: dict[str, list[str]] = {}
        self.staff_denied: dict[str, list[str]] = {}
        for staff, assigned in self.staff_centers.items():
            allowed, denied = [], []
            for user_id, centers in self.user_centers.items():
                if user_id == staff:
                    continue
                (allowed if centers & assigned else denied).append(user_id)
            self.staff_allowed[staff] = allowed
            self.staff_denied[staff] = denied
        self.user_ids = sorted(self.users)


def principals(path: str) -> None:
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    for n, u in enumerate(doc["users"]):
        # Every third student token names its subject by login, the others by id.
        sub = u["login"] if n % 3 == 1 else u["id"]
        print(f"student {u['id']} {sub}")
        if u.get("staffCenters"):
            sub = u["login"] if n % 2 == 1 else u["id"]
            print(f"staff {u['id']} {sub}")


# --------------------------------------------------------------------------------------------
# Requests and their expected answers


class Req:
    __slots__ = ("category", "kind", "method", "path", "headers", "body", "check", "fresh")

    def __init__(self, category, kind, method, path, headers=None, body=None, check=None,
                 fresh=False):
        self.category = category
        self.kind = kind
        self.method = method
        self.path = path
        self.headers = headers or {}
        self.body = body
        self.check = check
        self.fresh = fresh  # send on a new connection of its own

    def describe(self) -> str:
        body = self.body
        if isinstance(body, bytes):
            body = body.decode("utf-8", "replace")
        if body and len(body) > 300:
            body = body[:300] + f"… ({len(self.body)} bytes)"
        headers = {
            k: (v[:24] + "…" if k.lower() == "authorization" and len(v) > 24 else v)
            for k, v in self.headers.items()
        }
        return f"{self.method} {self.path[:200]} headers={headers} body={body!r}"


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def load_json(body: bytes):
    try:
        return json.loads(body.decode("utf-8")), None
    except (UnicodeDecodeError, ValueError) as e:
        return None, f"body is not JSON ({e})"


def media_of(headers: dict) -> str:
    return headers.get("content-type", "").split(";")[0].strip().lower()


REST_INVALID = {"Message": "The request is invalid."}
REST_DENIED = {"Message": "Authorization has been denied for this request."}


def check_session_list(items, expected, url_key, start_key) -> str | None:
    if not isinstance(items, list):
        return f"expected a list, found {type(items).__name__}"
    urls = [item.get(url_key) if isinstance(item, dict) else None for item in items]
    want = [url for url, _ in expected]
    if urls != want:
        return f"{url_key} list differs: got {len(urls)} {urls[:6]}…, want {len(want)} {want[:6]}…"
    for item, (_, start) in zip(items, expected):
        got = item.get(start_key)
        if not isinstance(got, str) or parse_micros(got) != start:
            return f"{start_key} {got!r} is not the instant {start} µs (session {item.get(url_key)})"
    return None


def rest_ok(expected):
    def check(status, headers, body):
        if status != 200:
            return f"status {status}, want 200"
        if media_of(headers) != "application/json":
            return f"content type {headers.get('content-type')!r}"
        data, err = load_json(body)
        if err:
            return err
        return check_session_list(data, expected, "MeetingUrl", "StartDateTime")
    return check


def rest_message(want_status, want_body, www_authenticate=False):
    def check(status, headers, body):
        if status != want_status:
            return f"status {status}, want {want_status}"
        data, err = load_json(body)
        if err:
            return err
        if data != want_body:
            return f"body {data!r}, want {want_body!r}"
        if www_authenticate and headers.get("www-authenticate") != "Bearer":
            return f"WWW-Authenticate {headers.get('www-authenticate')!r}"
        return None
    return check


def gql_ok(expected_by_alias: dict, forbidden: tuple = ()):
    """HTTP 200, each allowed alias exactly its sessions, each forbidden alias null with one
    FORBIDDEN error whose path is the alias, and no other error."""
    def check(status, headers, body):
        if status != 200:
            return f"status {status}, want 200"
        data, err = load_json(body)
        if err:
            return err
        if not isinstance(data, dict) or not isinstance(data.get("data"), dict):
            return "no data object"
        fields = data["data"]
        want_keys = list(expected_by_alias) + list(forbidden)
        if sorted(fields) != sorted(want_keys):
            return f"data keys {list(fields)}, want {want_keys}"
        for alias, expected in expected_by_alias.items():
            problem = check_session_list(fields[alias], expected, "meetingUrl", "startDateTime")
            if problem:
                return f"{alias}: {problem}"
        errors = data.get("errors", [])
        for alias in forbidden:
            if fields[alias] is not None:
                return f"forbidden alias {alias} is not null"
            mine = [e for e in errors if e.get("path") == [alias]]
            if len(mine) != 1 or (mine[0].get("extensions") or {}).get("code") != "FORBIDDEN":
                return f"alias {alias}: errors {mine!r}, want one FORBIDDEN"
        if len(errors) != len(forbidden):
            return f"{len(errors)} errors, want {len(forbidden)}: {errors!r}"
        return None
    return check


def gql_refused(want_status=200, codes=None):
    """A request error: the wanted status, `errors` present, no `data` key."""
    def check(status, headers, body):
        if status != want_status:
            return f"status {status}, want {want_status}"
        data, err = load_json(body)
        if err:
            return err
        if not isinstance(data, dict):
            return "body is not an object"
        if "data" in data:
            return f"has a data key: {str(data)[:200]}"
        errors = data.get("errors")
        if not isinstance(errors, list) or not errors:
            return "no errors"
        if codes is not None:
            got = [(e.get("extensions") or {}).get("code") for e in errors]
            if not all(code in codes for code in got):
                return f"error codes {got}, want one of {sorted(codes)}"
        return None
    return check


class Workload:
    def __init__(self, data: DataSet, tokens: dict, secret: str | None):
        self.data = data
        self.students = tokens["student"]  # user id -> token
        self.staff = tokens["staff"]
        self.student_ids = sorted(self.students)
        self.staff_ids = sorted(self.staff)
        self.secret = secret
        # Each kind with its weight; valid requests are most of the traffic.
        self.kinds = [
            ("valid", self.rest_me, 14),
            ("valid", self.rest_staff, 10),
            ("valid", self.rest_staff_denied, 3),
            ("valid", self.gql_me, 12),
            ("valid", self.gql_me_get, 4),
            ("valid", self.gql_two_aliases, 12),
            ("malformed", self.mal_truncated_json, 2),
            ("malformed", self.mal_misspelled_query, 2),
            ("malformed", self.mal_variables_array, 2),
            ("malformed", self.mal_text_plain, 2),
            ("malformed", self.mal_get_bad_variables, 2),
            ("malformed", self.mal_batch, 2),
            ("malformed", self.mal_rest_blank, 2),
            ("malformed", self.mal_rest_long, 2),
            ("hostile", self.hos_many_aliases, 2),
            ("hostile", self.hos_deep_introspection, 2),
            ("hostile", self.hos_deep_inline_fragments, 2),
            ("hostile", self.hos_fragment_chain, 2),
            ("hostile", self.hos_too_many_tokens, 1),
            ("hostile", self.hos_brace_nesting, 1),
            ("hostile", self.hos_deep_json, 1),
            ("hostile", self.hos_alg_none, 2),
            ("hostile", self.hos_expired, 2),
            ("hostile", self.hos_garbage_token, 1),
            ("hostile", self.hos_big_body, 1),
        ]
        disabled = set(filter(None, os.environ.get("SOAK_DISABLE", "").split(",")))
        unknown = disabled - {fn.__name__ for _, fn, _ in self.kinds}
        if unknown:
            raise SystemExit(f"SOAK_DISABLE names unknown kinds: {sorted(unknown)}")
        self.kinds = [k for k in self.kinds if k[1].__name__ not in disabled]
        self.total_weight = sum(w for _, _, w in self.kinds)
        self.none_token = self._none_token()

    def pick(self, rng: random.Random) -> Req:
        x = rng.uniform(0, self.total_weight)
        for _, fn, weight in self.kinds:
            x -= weight
            if x <= 0:
                return fn(rng)
        return self.kinds[-1][1](rng)

    # -- helpers --

    def any_student(self, rng):
        user_id = rng.choice(self.student_ids)
        return user_id, self.students[user_id]

    def identifier_variants(self, rng, user_id) -> str:
        """Ways to name `user_id`: login in any case, id in any accepted spelling."""
        user = self.data.users[user_id]
        v = rng.randrange(6)
        if v == 0:
            return user["login"].upper()
        if v == 1:
            return user_id.upper()
        if v == 2:
            return "{" + user_id + "}"
        if v == 3:
            return user_id.replace("-", "")
        return user["login"]

    @staticmethod
    def gql_post(query, variables=None, headers=None):
        body = {"query": query}
        if variables is not None:
            body["variables"] = variables
        h = {"Content-Type": "application/json"}
        h.update(headers or {})
        return json.dumps(body).encode(), h

    # -- valid --

    def rest_me(self, rng):
        user_id, token = self.any_student(rng)
        v = rng.randrange(4)
        ident = "me" if v < 2 else urllib.parse.quote(self.identifier_variants(rng, user_id), safe="")
        path = f"/users/{ident}/sessions"
        if v == 1:
            path += rng.choice(["/", "?page=2"])
        return Req("valid", "rest_me", "GET", path, bearer(token),
                   check=rest_ok(self.data.expected[user_id]))

    def rest_staff(self, rng):
        staff_id = rng.choice(self.staff_ids)
        target = rng.choice(self.data.staff_allowed[staff_id])
        ident = self.identifier_variants(rng, target)
        if rng.random() < 0.1:
            ident = f" {ident} "  # surrounding whitespace is trimmed
        path = f"/users/{urllib.parse.quote(ident, safe='')}/sessions"
        return Req("valid", "rest_staff", "GET", path, bearer(self.staff[staff_id]),
                   check=rest_ok(self.data.expected[target]))

    def rest_staff_denied(self, rng):
        staff_id = rng.choice(self.staff_ids)
        if rng.random() < 0.2:
            ident = f"nobody.{rng.randrange(10**6)}"
        else:
            ident = self.data.users[rng.choice(self.data.staff_denied[staff_id])]["login"]
        return Req("valid", "rest_staff_denied", "GET", f"/users/{ident}/sessions",
                   bearer(self.staff[staff_id]), check=rest_message(403, REST_DENIED))

    def gql_me(self, rng):
        user_id, token = self.any_student(rng)
        headers = bearer(token)
        if rng.random() < 0.3:
            headers["Accept"] = "application/graphql-response+json"
        body, headers = self.gql_post(
            '{ userSessions(userIdentifier: "me") { meetingUrl startDateTime } }', None, headers)
        return Req("valid", "gql_me", "POST", "/graphql", headers, body,
                   check=gql_ok({"userSessions": self.data.expected[user_id]}))

    def gql_me_get(self, rng):
        user_id, token = self.any_student(rng)
        query = ("query Q($u: UserIdentifier!) { mine: userSessions(userIdentifier: $u) "
                 "{ startDateTime meetingUrl } }")
        params = urllib.parse.urlencode({"query": query, "variables": json.dumps({"u": "me"})})
        return Req("valid", "gql_me_get", "GET", f"/graphql?{params}", bearer(token),
                   check=gql_ok({"mine": self.data.expected[user_id]}))

    def gql_two_aliases(self, rng):
        if rng.random() < 0.5:
            caller, token = self.any_student(rng)
            allowed_id = caller
            allowed_ident = "me" if rng.random() < 0.5 else self.identifier_variants(rng, caller)
            other = rng.choice(self.student_ids)
            while other == caller:
                other = rng.choice(self.student_ids)
            denied_ident = self.data.users[other]["login"]
        else:
            caller = rng.choice(self.staff_ids)
            token = self.staff[caller]
            allowed_id = rng.choice(self.data.staff_allowed[caller])
            allowed_ident = self.identifier_variants(rng, allowed_id)
            denied_ident = self.data.users[rng.choice(self.data.staff_denied[caller])]["login"]
        if rng.random() < 0.15:
            denied_ident = f"ghost.{rng.randrange(10**6)}"
        ok_field = (f"ok: userSessions(userIdentifier: {json.dumps(allowed_ident)}) "
                    "{ meetingUrl startDateTime }")
        no_field = f"no: userSessions(userIdentifier: {json.dumps(denied_ident)}) {{ meetingUrl }}"
        fields = [ok_field, no_field]
        rng.shuffle(fields)
        body, headers = self.gql_post("{ " + " ".join(fields) + " }", None, bearer(token))
        return Req("valid", "gql_two_aliases", "POST", "/graphql", headers, body,
                   check=gql_ok({"ok": self.data.expected[allowed_id]}, forbidden=("no",)))

    # -- malformed --

    def _mal_post(self, rng, kind, body, status, code, content_type="application/json"):
        _, token = self.any_student(rng)
        headers = bearer(token)
        headers["Content-Type"] = content_type
        return Req("malformed", kind, "POST", "/graphql", headers, body,
                   check=gql_refused(status, {code}))

    def mal_truncated_json(self, rng):
        return self._mal_post(rng, "mal_truncated_json", b'{"query":', 400, "BAD_REQUEST")

    def mal_misspelled_query(self, rng):
        return self._mal_post(rng, "mal_misspelled_query", b'{"qeury":"x"}', 400, "BAD_REQUEST")

    def mal_variables_array(self, rng):
        body = b'{"query":"{ userSessions(userIdentifier: \\"me\\") { meetingUrl } }","variables":[]}'
        return self._mal_post(rng, "mal_variables_array", body, 400, "BAD_REQUEST")

    def mal_text_plain(self, rng):
        body = b'{"query":"{ userSessions(userIdentifier: \\"me\\") { meetingUrl } }"}'
        return self._mal_post(rng, "mal_text_plain", body, 415, "UNSUPPORTED_MEDIA_TYPE",
                              content_type=rng.choice(["text/plain", "text/plain;charset=UTF-8"]))

    def mal_get_bad_variables(self, rng):
        _, token = self.any_student(rng)
        query = urllib.parse.quote('{ userSessions(userIdentifier: "me") { meetingUrl } }')
        return Req("malformed", "mal_get_bad_variables", "GET",
                   f"/graphql?query={query}&variables=not-json", bearer(token),
                   check=gql_refused(400, {"BAD_REQUEST"}))

    def mal_batch(self, rng):
        op = {"query": '{ userSessions(userIdentifier: "me") { meetingUrl } }'}
        return self._mal_post(rng, "mal_batch", json.dumps([op] * 50).encode(), 400, "BAD_REQUEST")

    def mal_rest_blank(self, rng):
        _, token = self.any_student(rng)
        ident = rng.choice(["%20", "%20%20", "%09"])
        return Req("malformed", "mal_rest_blank", "GET", f"/users/{ident}/sessions",
                   bearer(token), check=rest_message(400, REST_INVALID))

    def mal_rest_long(self, rng):
        _, token = self.any_student(rng)
        ident = "x" * 300
        return Req("malformed", "mal_rest_long", "GET", f"/users/{ident}/sessions",
                   bearer(token), check=rest_message(400, REST_INVALID))

    # -- hostile --

    def _hostile_gql(self, rng, kind, query, check):
        _, token = self.any_student(rng)
        body, headers = self.gql_post(query, None, bearer(token))
        return Req("hostile", kind, "POST", "/graphql", headers, body, check=check)

    def hos_many_aliases(self, rng):
        fields = " ".join(
            f'a{i}: userSessions(userIdentifier: "me") {{ meetingUrl }}' for i in range(101))
        return self._hostile_gql(rng, "hos_many_aliases", "{ " + fields + " }",
                                 gql_refused(200, {"GRAPHQL_VALIDATION_FAILED"}))

    def hos_deep_introspection(self, rng):
        depth = rng.randrange(20, 300)
        inner = "name"
        for _ in range(depth):
            inner = f"ofType {{ {inner} }}"
        query = f"{{ __schema {{ types {{ fields {{ type {{ {inner} }} }} }} }} }}"
        return self._hostile_gql(rng, "hos_deep_introspection", query,
                                 gql_refused(200, {"GRAPHQL_VALIDATION_FAILED",
                                                   "GRAPHQL_PARSE_FAILED"}))

    def hos_deep_inline_fragments(self, rng):
        """Inline fragments nested deeply. Fragments are not fields, so up to the recursion
        limit (32 selection sets) this is a valid query for oneself and must answer exactly;
        far past it the document must be refused."""
        user_id, token = self.any_student(rng)
        refused = rng.random() < 0.6
        depth = rng.randrange(40, 300) if refused else rng.randrange(2, 29)
        inner = "meetingUrl startDateTime"
        for _ in range(depth):
            inner = f"... on TeacherSession {{ {inner} }}"
        query = f'{{ userSessions(userIdentifier: "me") {{ {inner} }} }}'
        body, headers = self.gql_post(query, None, bearer(token))
        if refused:
            check = gql_refused(200, {"GRAPHQL_VALIDATION_FAILED", "GRAPHQL_PARSE_FAILED"})
        else:
            check = gql_ok({"userSessions": self.data.expected[user_id]})
        return Req("hostile", "hos_deep_inline_fragments", "POST", "/graphql", headers, body,
                   check=check)

    def hos_fragment_chain(self, rng):
        """Named fragments each spreading the next one twice: 2^n paths through a tiny
        document. Must be answered (or refused) promptly, never hang the server."""
        user_id, token = self.any_student(rng)
        n = rng.randrange(20, 40)
        frags = [f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(n)]
        frags.append(f'fragment F{n} on Query {{ userSessions(userIdentifier: "me") '
                     "{ meetingUrl startDateTime } }")
        query = "{ ...F0 } " + " ".join(frags)
        body, headers = self.gql_post(query, None, bearer(token))
        expected = self.data.expected[user_id]

        def check(status, headers_, body_):
            data, err = load_json(body_)
            if err:
                return f"status {status}, {err}"
            if isinstance(data, dict) and "data" in data:
                return gql_ok({"userSessions": expected})(status, headers_, body_)
            return gql_refused(200)(status, headers_, body_)
        return Req("hostile", "hos_fragment_chain", "POST", "/graphql", headers, body,
                   check=check)

    def hos_too_many_tokens(self, rng):
        query = "{ " + "__typename " * 2500 + "}"
        return self._hostile_gql(rng, "hos_too_many_tokens", query,
                                 gql_refused(200, {"GRAPHQL_VALIDATION_FAILED"}))

    def hos_brace_nesting(self, rng):
        n = rng.randrange(100, 1000)
        return self._hostile_gql(rng, "hos_brace_nesting", "{" * n + "}" * n,
                                 gql_refused(200, {"GRAPHQL_VALIDATION_FAILED",
                                                   "GRAPHQL_PARSE_FAILED"}))

    def hos_deep_json(self, rng):
        """JSON nested far past any sane depth, in `variables`: a 400, never a stack overflow."""
        _, token = self.any_student(rng)
        n = rng.randrange(200, 8000)  # stays under the 64 KiB body limit
        nested = "[" * n + "]" * n if rng.random() < 0.5 else '{"a":' * n + "1" + "}" * n
        body = ('{"query":"{ userSessions(userIdentifier: \\"me\\") { meetingUrl } }",'
                f'"variables":{{"v":{nested}}}}}').encode()
        headers = bearer(token)
        headers["Content-Type"] = "application/json"
        return Req("hostile", "hos_deep_json", "POST", "/graphql", headers, body,
                   check=gql_refused(400, {"BAD_REQUEST"}))

    def _none_token(self) -> str:
        def b64(obj) -> str:
            raw = json.dumps(obj, separators=(",", ":")).encode()
            return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
        user_id = sorted(self.students)[0]
        claims = {"sub": user_id, "roles": ["Student"], "exp": int(time.time()) + 86400}
        return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}."

    def _signed(self, claims: dict) -> str:
        def b64(raw: bytes) -> str:
            return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
        head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
        payload = b64(json.dumps(claims, separators=(",", ":")).encode())
        signature = hmac.new(self.secret.encode(), f"{head}.{payload}".encode(),
                             hashlib.sha256).digest()
        return f"{head}.{payload}.{b64(signature)}"

    def _unauthorized(self, rng, kind, token):
        if rng.random() < 0.5:
            return Req("hostile", kind, "GET", "/users/me/sessions", bearer(token),
                       check=rest_message(401, REST_DENIED, www_authenticate=True))
        body, headers = self.gql_post(
            '{ userSessions(userIdentifier: "me") { meetingUrl } }', None, bearer(token))
        return Req("hostile", kind, "POST", "/graphql", headers, body,
                   check=gql_refused(401, {"UNAUTHENTICATED"}))

    def hos_alg_none(self, rng):
        return self._unauthorized(rng, "hos_alg_none", self.none_token)

    def hos_expired(self, rng):
        if not self.secret:
            return self.hos_garbage_token(rng)
        now = int(time.time())
        claims = {"sub": rng.choice(self.student_ids), "roles": ["Student"],
                  "iat": now - 7200, "exp": now - rng.randrange(120, 3600)}
        return self._unauthorized(rng, "hos_expired", self._signed(claims))

    def hos_garbage_token(self, rng):
        token = rng.choice([
            "garbage",
            "a.b.c",
            base64.urlsafe_b64encode(rng.randbytes(60)).decode().rstrip("="),
            self.students[rng.choice(self.student_ids)][:-4] + "AAAA",  # bad signature
        ])
        return self._unauthorized(rng, "hos_garbage_token", token)

    def hos_big_body(self, rng):
        _, token = self.any_student(rng)
        pad = "x" * (200 * 1024)
        body, headers = self.gql_post('{ userSessions(userIdentifier: "me") { meetingUrl } }',
                                      None, bearer(token))
        body = body[:-1] + b',"extensions":{"pad":"' + pad.encode() + b'"}}'
        return Req("hostile", "hos_big_body", "POST", "/graphql", headers, body,
                   check=gql_refused(413, {"PAYLOAD_TOO_LARGE"}), fresh=True)


# --------------------------------------------------------------------------------------------
# The load


class TransportError(Exception):
    pass


class Connection:
    """One persistent HTTP/1.1 connection; reopened when the server closes it."""

    RETRYABLE = (http.client.RemoteDisconnected, http.client.BadStatusLine, ConnectionError)

    def __init__(self, host, port, timeout):
        self.host, self.port, self.timeout = host, port, timeout
        self.conn = None
        self.served = 0  # responses read on the current connection
        self.reconnects = 0
        self.last_kind = None  # the kind of the last answered request on this connection
        self.closed_after = collections.Counter()  # kind -> silent closes that followed it

    def close(self):
        if self.conn is not None:
            self.conn.close()
        self.conn = None
        self.served = 0
        self.last_kind = None

    def _once(self, req: Req):
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        conn = self.conn
        try:
            conn.request(req.method, req.path, body=req.body, headers=req.headers)
        except (BrokenPipeError, ConnectionResetError):
            # The server may answer (413) and close before reading a large body: the answer
            # is still in our receive buffer.
            pass
        resp = conn.getresponse()
        body = resp.read()
        headers = {k.lower(): v for k, v in resp.getheaders()}
        if resp.will_close:
            self.close()
        else:
            self.served += 1
            self.last_kind = req.kind
        return resp.status, headers, body

    def send(self, req: Req):
        if req.fresh:
            self.close()
        for attempt in range(2):
            reused = self.served > 0
            last_kind = self.last_kind
            try:
                return self._once(req)
            except self.RETRYABLE as e:
                self.close()
                if reused and attempt == 0:
                    # An idle keep-alive connection the server had closed: reconnect, retry.
                    self.reconnects += 1
                    self.closed_after[last_kind] += 1
                    continue
                raise TransportError(f"{type(e).__name__}: {e}") from e
            except (OSError, http.client.HTTPException) as e:
                self.close()
                raise TransportError(f"{type(e).__name__}: {e}") from e
        raise AssertionError("unreachable")


class Stats:
    def __init__(self):
        self.total = 0
        self.by_category = collections.Counter()
        self.by_kind = collections.Counter()
        self.status = collections.Counter()
        self.wrong = 0
        self.wrong_by_kind = collections.Counter()
        self.wrong_samples = []
        self.transport = 0
        self.transport_samples = []
        self.latencies = collections.defaultdict(list)

    def merge(self, other: "Stats"):
        self.total += other.total
        self.by_category.update(other.by_category)
        self.by_kind.update(other.by_kind)
        self.status.update(other.status)
        self.wrong += other.wrong
        self.wrong_by_kind.update(other.wrong_by_kind)
        self.wrong_samples.extend(other.wrong_samples)
        self.transport += other.transport
        self.transport_samples.extend(other.transport_samples)
        for k, v in other.latencies.items():
            self.latencies[k].extend(v)


def read_status(pid: int) -> dict:
    try:
        with open(f"/proc/{pid}/status", encoding="utf-8") as f:
            fields = dict(line.split(":", 1) for line in f if ":" in line)
    except OSError:
        return {}
    return {k: v.strip() for k, v in fields.items()}


def alive(pid: int) -> bool:
    state = read_status(pid).get("State", "")
    return bool(state) and not state.startswith(("Z", "X"))


def rss_kib(pid: int) -> int | None:
    value = read_status(pid).get("VmRSS")
    return int(value.split()[0]) if value else None


def worker(index, base_seed, workload, host, port, deadline, stop, out: Stats, conns):
    rng = random.Random(base_seed * 1000 + index)
    conn = Connection(host, port, timeout=30)
    conns[index] = conn
    while not stop.is_set() and time.monotonic() < deadline:
        req = workload.pick(rng)
        started = time.monotonic()
        try:
            status, headers, body = conn.send(req)
        except TransportError as e:
            out.transport += 1
            if len(out.transport_samples) < 5:
                out.transport_samples.append(f"{req.kind}: {e} :: {req.describe()}")
            out.total += 1
            out.by_category[req.category] += 1
            out.by_kind[req.kind] += 1
            continue
        elapsed = time.monotonic() - started
        out.total += 1
        out.by_category[req.category] += 1
        out.by_kind[req.kind] += 1
        out.status[status] += 1
        if len(out.latencies[req.kind]) < 200_000:
            out.latencies[req.kind].append(elapsed)
        try:
            problem = req.check(status, headers, body)
        except Exception as e:  # a checker crash is a wrong answer, not a soak crash
            problem = f"checker raised {type(e).__name__}: {e}"
        if not problem and elapsed > SLOW_SECONDS:
            problem = (f"answered after {elapsed:.1f} s, past the gateway's 10 s request "
                       f"timeout (limit here {SLOW_SECONDS} s)")
        if problem:
            out.wrong += 1
            out.wrong_by_kind[req.kind] += 1
            if len(out.wrong_samples) < 5:
                text = body.decode("utf-8", "replace")
                out.wrong_samples.append(
                    f"[{req.category}/{req.kind}] {problem}\n      request: {req.describe()}\n"
                    f"      answer: {status} {text[:600]}")
    conn.close()


def healthz(host, port) -> int | str:
    try:
        conn = http.client.HTTPConnection(host, port, timeout=10)
        conn.request("GET", "/healthz")
        status = conn.getresponse().status
        conn.close()
        return status
    except (OSError, http.client.HTTPException) as e:
        return f"{type(e).__name__}: {e}"


def fmt_mib(kib):
    return "n/a" if kib is None else f"{kib / 1024:.1f} MiB ({kib} kB)"


def percentile(values, p):
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))]


def run(args) -> int:
    base = urllib.parse.urlsplit(args.base)
    if base.scheme != "http" or base.hostname != "127.0.0.1" or not base.port:
        raise SystemExit(f"--base must be http://127.0.0.1:PORT, not {args.base!r}")
    host, port = base.hostname, base.port
    data = DataSet(args.data)
    tokens = {"student": {}, "staff": {}}
    with open(args.tokens_file, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                kind, user_id, token = line.split()
                tokens[kind][user_id] = token
    if not tokens["student"] or not tokens["staff"]:
        raise SystemExit("the tokens file needs student and staff tokens")
    workload = Workload(data, tokens, os.environ.get("GATEWAY_JWT_SECRET"))

    print(f"soak: {args.connections} connections for {args.duration} s against {args.base} "
          f"(server pid {args.pid}); kinds: {len(workload.kinds)}", flush=True)
    stop = threading.Event()
    start = time.monotonic()
    deadline = start + args.duration
    per_thread = [Stats() for _ in range(args.connections)]
    conns = [None] * args.connections
    threads = [
        threading.Thread(target=worker, daemon=True, name=f"conn-{i}",
                         args=(i, args.seed, workload, host, port, deadline, stop,
                               per_thread[i], conns))
        for i in range(args.connections)
    ]
    for t in threads:
        t.start()

    samples = []  # (seconds, kib)
    rss_1min = None
    crashed_at = None
    next_sample = start
    while True:
        now = time.monotonic()
        if now >= deadline or not any(t.is_alive() for t in threads):
            break
        if now >= next_sample:
            kib = rss_kib(args.pid)
            elapsed = now - start
            if not alive(args.pid):
                crashed_at = elapsed
                print(f"soak: the server process {args.pid} is gone at {elapsed:.0f} s",
                      flush=True)
                stop.set()
                break
            samples.append((elapsed, kib))
            if rss_1min is None and elapsed >= 60:
                rss_1min = (elapsed, kib)
            if len(samples) % 6 == 1:
                total = sum(s.total for s in per_thread)
                wrong = sum(s.wrong for s in per_thread)
                transport = sum(s.transport for s in per_thread)
                print(f"soak: {elapsed:5.0f} s  {total:8d} requests  {total / max(elapsed, 1e-9):7.0f}/s"
                      f"  wrong {wrong}  transport errors {transport}  RSS {fmt_mib(kib)}",
                      flush=True)
            next_sample += 5
        time.sleep(min(0.2, max(0.0, next_sample - time.monotonic())))
    stop.set()
    for t in threads:
        t.join(timeout=45)
    hung = [t.name for t in threads if t.is_alive()]
    wall = time.monotonic() - start

    end_alive = alive(args.pid)
    rss_end = rss_kib(args.pid) if end_alive else None
    health = healthz(host, port) if end_alive else "process gone"

    stats = Stats()
    for s in per_thread:
        stats.merge(s)
    reconnects = sum(c.reconnects for c in conns if c is not None)
    closed_after = collections.Counter()
    for c in conns:
        if c is not None:
            closed_after.update(c.closed_after)

    if rss_1min is None and samples:
        rss_1min = samples[-1]
        note_1min = f" (run shorter than a minute: last sample, at {rss_1min[0]:.0f} s)"
    else:
        note_1min = ""

    print()
    print("=" * 78)
    print("SOAK SUMMARY")
    print("=" * 78)
    print(f"duration            {wall:.1f} s (asked {args.duration} s), {args.connections} connections")
    print(f"total requests      {stats.total}")
    print(f"requests/s          {stats.total / wall:.1f}")
    for category in ("valid", "malformed", "hostile"):
        print(f"  {category:<17} {stats.by_category[category]}")
    print("per kind (count, wrong, p50 / p99 ms):")
    for _, fn, _ in workload.kinds:
        kind = fn.__name__
        lat = stats.latencies.get(kind, [])
        print(f"  {kind:<27} {stats.by_kind[kind]:8d}  wrong {stats.wrong_by_kind[kind]:<5d}"
              f" {percentile(lat, 50) * 1000:7.1f} / {percentile(lat, 99) * 1000:7.1f}")
    print("HTTP statuses       " + ", ".join(f"{k}: {v}" for k, v in sorted(stats.status.items())))
    fivexx = sum(v for k, v in stats.status.items() if k >= 500)
    print(f"5xx answers         {fivexx}")
    print(f"wrong answers       {stats.wrong}")
    for sample in stats.wrong_samples[:5]:
        print(f"    - {sample}")
    print(f"transport errors    {stats.transport}  (idle keep-alive reconnects: {reconnects})")
    if closed_after:
        print("  server closed the keep-alive connection silently (no Connection: close) after: "
              + ", ".join(f"{k} {v}" for k, v in closed_after.most_common()))
    for sample in stats.transport_samples[:5]:
        print(f"    - {sample}")
    if hung:
        print(f"threads still running after the deadline: {hung}")
    print(f"server alive        {'yes' if end_alive else 'NO'}"
          + (f" (gone at {crashed_at:.0f} s)" if crashed_at is not None else ""))
    print(f"/healthz            {health}")
    kib_1 = rss_1min[1] if rss_1min else None
    print(f"RSS after 1 min     {fmt_mib(kib_1)}{note_1min}")
    print(f"RSS at end          {fmt_mib(rss_end)}")
    peak = max((k for _, k in samples if k is not None), default=None)
    print(f"RSS peak (sampled)  {fmt_mib(peak)}")
    ratio = (rss_end / kib_1) if (rss_end and kib_1) else None
    print(f"RSS end / 1 min     {'n/a' if ratio is None else f'{ratio:.3f}'} (limit 1.200)")
    if args.rss_log:
        with open(args.rss_log, "w", encoding="utf-8") as f:
            for t, k in samples:
                f.write(f"{t:.1f} {k}\n")

    reasons = []
    if stats.total == 0:
        reasons.append("no request was made")
    if stats.wrong:
        reasons.append(f"{stats.wrong} wrong answers")
    if stats.transport:
        reasons.append(f"{stats.transport} transport errors")
    if not end_alive:
        reasons.append("the server process died")
    if health != 200:
        reasons.append(f"/healthz answered {health}")
    if hung:
        reasons.append(f"{len(hung)} connections hung past the deadline")
    if ratio is None:
        reasons.append("RSS could not be measured")
    elif ratio > 1.2:
        reasons.append(f"RSS grew {ratio:.3f}x after the first minute (limit 1.2x)")
    print("-" * 78)
    if reasons:
        print("RESULT: FAIL — " + "; ".join(reasons))
        return 1
    print("RESULT: PASS")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    g = sub.add_parser("generate", help="write the import document")
    g.add_argument("file")
    p = sub.add_parser("principals", help="list the tokens to mint")
    p.add_argument("file")
    r = sub.add_parser("run", help="run the load against a server")
    r.add_argument("--base", required=True)
    r.add_argument("--pid", type=int, required=True)
    r.add_argument("--duration", type=float, default=300)
    r.add_argument("--connections", type=int, default=16)
    r.add_argument("--tokens-file", required=True)
    r.add_argument("--data", required=True, help="the generated import document")
    r.add_argument("--seed", type=int, default=1)
    r.add_argument("--rss-log", help="write every RSS sample here")
    args = parser.parse_args()
    if args.command == "generate":
        generate(args.file)
        return 0
    if args.command == "principals":
        principals(args.file)
        return 0
    if args.duration <= 0 or args.connections <= 0:
        raise SystemExit("--duration and --connections must be positive")
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
