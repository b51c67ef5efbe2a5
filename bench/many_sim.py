#!/usr/bin/env python3
"""many_sim: many Zoom accounts served by one event-driven process, for figure 14 of scripts/bench.

Figure 14 needs 500 accounts, each with its own rate limit, at 150 ms latency. 500 zoom-sims (cpp-httplib
0.11's server) could not serve them on a 2-core machine: each keeps a thread per keep-alive connection,
which looks at its socket every ~11 ms, and h2r keeps ~1,500 connections open (BENCHMARKS.md, figure 14's
reading). This process serves every account from one asyncio loop (epoll): an idle connection costs
nothing, and the 150 ms latency is a timer, not a sleeping thread.

It answers only what a hire needs, the way zoom-sim (tests/zoom-sim) does:
  POST /oauth/token              Server-to-Server OAuth (account_credentials, Basic client id and secret)
  GET  /scim2/Users?filter=userName eq "..."   a ListResponse of 0 or 1 user
  POST /scim2/Users              201 with the user, its id and meta; 409 when the userName exists
Each request waits --latency-ms first (zoom-sim's order); a SCIM request then needs a token this account
issued and a slot in the account's bucket (burst R, refilled at R/s: zoom-sim's --rate-limit), or it is
answered 429 with Retry-After in seconds. Anything else is 404.

Usage: many_sim.py --accounts N --rate-limit R --latency-ms L [--host 127.0.0.1]
The first stdout line is JSON: {"ports": [port of account 0, 1, ...]} (ephemeral ports). Then each line
read on stdin is a command, answered with one JSON line on stdout:
  calls   {"calls": [[account, monotonic s at the answer, method, target, status], ...]} (SCIM calls only)
  quit    ends the process (so does the end of stdin)
"""
import argparse
import asyncio
import base64
import datetime
import json
import re
import secrets
import sys
import time
import urllib.parse

CLIENT_ID = "cid-demo"
CLIENT_SECRET = "sim-secret"   # zoom-sim's default: a test fixture, not a credential
ACCOUNT_ID = "acc-demo"
BASIC_AUTH = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
MAX_HEAD = 64 << 10
MAX_BODY = 1 << 20
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
FILTER = re.compile(r'^\s*userName\s+eq\s+"((?:[^"\\]|\\.)*)"\s*$', re.IGNORECASE)
REASONS = {200: "OK", 201: "Created", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found",
           409: "Conflict", 413: "Payload Too Large", 429: "Too Many Requests"}


class Account:
    def __init__(self, index, rate, calls):
        self.index = index
        self.rate = rate
        self.bucket = float(rate)
        self.bucket_time = time.monotonic()
        self.tokens = set()
        self.users = {}   # userName folded to lower case -> user
        self.calls = calls

    def admit(self):
        """True when the bucket has a slot (zoom-sim's --rate-limit: burst R, refilled at R/s)."""
        if self.rate <= 0:
            return True
        now = time.monotonic()
        self.bucket = min(self.rate, self.bucket + (now - self.bucket_time) * self.rate)
        self.bucket_time = now
        if self.bucket >= 1.0:
            self.bucket -= 1.0
            return True
        return False

    def retry_after(self):
        return max(1, int(-(-(1.0 - self.bucket) // self.rate)))


def answer(status, body, headers=(), content_type="application/scim+json"):
    data = json.dumps(body, separators=(",", ":")).encode()
    head = [f"HTTP/1.1 {status} {REASONS.get(status, 'Error')}", f"Content-Type: {content_type}",
            f"Content-Length: {len(data)}", *headers]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + data


def zoom_error(status, code, message, headers=()):
    return answer(status, {"code": code, "message": message}, headers, "application/json")


def scim_error(status, detail, scim_type=None):
    body = {"schemas": [ERROR_SCHEMA], "detail": detail, "status": status}
    if scim_type:
        body["scimType"] = scim_type
    return answer(status, body)


def token(account, target, headers, body):
    auth = headers.get("authorization", "")
    params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(target).query))
    if headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        params.update(urllib.parse.parse_qsl(body.decode("utf-8", "replace")))
    if not secrets.compare_digest(auth, BASIC_AUTH):
        return answer(400, {"reason": "Invalid client_id or client_secret", "error": "invalid_client"}, (),
                      "application/json")
    if params.get("grant_type") != "account_credentials" or params.get("account_id") != ACCOUNT_ID:
        return answer(400, {"reason": "Invalid request", "error": "invalid_request"}, (), "application/json")
    issued = secrets.token_hex(16)
    account.tokens.add(issued)
    return answer(200, {"access_token": issued, "token_type": "bearer", "expires_in": 3600,
                        "scope": "user:read:admin user:write:admin"}, (), "application/json")


def scim(account, method, target, headers, body):
    auth = headers.get("authorization", "")
    if not auth.lower().startswith("bearer ") or auth[7:] not in account.tokens:
        return 401, zoom_error(401, 124, "Invalid access token.")
    if not account.admit():
        return 429, zoom_error(429, 429, "You have reached the maximum per-second rate limit for this API.",
                               ("X-RateLimit-Category: Medium", "X-RateLimit-Type: QPS",
                                f"X-RateLimit-Limit: {max(1, int(account.rate))}", "X-RateLimit-Remaining: 0",
                                f"Retry-After: {account.retry_after()}"))
    parts = urllib.parse.urlsplit(target)
    if parts.path != "/scim2/Users":
        return 404, scim_error(404, "Not found")
    if method == "GET":
        found = []
        query = dict(urllib.parse.parse_qsl(parts.query))
        if "filter" in query:
            m = FILTER.match(query["filter"])
            if not m:
                return 400, scim_error(400, "Unsupported filter", "invalidFilter")
            user = account.users.get(re.sub(r"\\(.)", r"\1", m.group(1)).lower())
            found = [user] if user else []
        return 200, answer(200, {"schemas": [LIST_SCHEMA], "totalResults": len(found), "startIndex": 1,
                                 "itemsPerPage": len(found), "Resources": found})
    if method == "POST":
        try:
            user = json.loads(body)
        except ValueError:
            user = None
        if not isinstance(user, dict) or not isinstance(user.get("userName"), str):
            return 400, scim_error(400, "The request body is not a SCIM user.", "invalidSyntax")
        key = user["userName"].lower()
        if key in account.users:
            return 409, scim_error(409, "User already exists.", "uniqueness")
        user.pop("meta", None)
        user["id"] = "u" + secrets.token_hex(8)
        user.setdefault("active", True)
        user.setdefault("schemas", [USER_SCHEMA])
        now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        user["meta"] = {"resourceType": "User", "created": now, "lastModified": now, "version": 'W/"1"',
                        "location": f"/scim2/Users/{user['id']}"}
        account.users[key] = user
        return 201, answer(201, user)
    return 404, scim_error(404, "Not found")


async def serve(account, latency, reader, writer):
    try:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                return
            lines = head.decode("latin-1").split("\r\n")
            request = lines[0].split(" ")
            if len(request) != 3:
                return
            method, target, _ = request
            headers = {}
            for line in lines[1:]:
                name, sep, value = line.partition(":")
                if sep:
                    headers[name.strip().lower()] = value.strip()
            try:
                length = int(headers.get("content-length", "0") or "0")
            except ValueError:
                length = -1
            if length < 0 or length > MAX_BODY:
                writer.write(scim_error(413, "Body too large"))
                return
            body = await reader.readexactly(length) if length else b""
            await asyncio.sleep(latency)
            if method == "POST" and urllib.parse.urlsplit(target).path == "/oauth/token":
                writer.write(token(account, target, headers, body))
            else:
                status, data = scim(account, method, target, headers, body)
                writer.write(data)
                if target.startswith("/scim2/"):
                    account.calls.append((account.index, time.monotonic(), method, target, status))
            await writer.drain()
            if headers.get("connection", "").lower() == "close":
                return
    except (ConnectionError, asyncio.IncompleteReadError):
        return
    finally:
        writer.close()


async def commands(calls):
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while True:
        line = (await reader.readline()).decode().strip()
        if line in ("", "quit"):
            return
        if line == "calls":
            sys.stdout.write(json.dumps({"calls": calls}, separators=(",", ":")) + "\n")
            sys.stdout.flush()


async def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--accounts", type=int, required=True)
    p.add_argument("--rate-limit", type=float, default=0)
    p.add_argument("--latency-ms", type=float, default=0)
    p.add_argument("--host", default="127.0.0.1")
    args = p.parse_args()
    if not 1 <= args.accounts <= 5000:
        p.error("--accounts: expected 1..5000")
    calls = []
    servers, ports = [], []
    for i in range(args.accounts):
        account = Account(i, args.rate_limit, calls)
        server = await asyncio.start_server(
            lambda r, w, a=account: serve(a, args.latency_ms / 1000.0, r, w), args.host, 0, limit=MAX_HEAD)
        servers.append(server)
        ports.append(server.sockets[0].getsockname()[1])
    sys.stdout.write(json.dumps({"ports": ports}) + "\n")
    sys.stdout.flush()
    await commands(calls)


if __name__ == "__main__":
    asyncio.run(main())
