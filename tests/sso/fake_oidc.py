"""A local fake OpenID Connect provider: a real HTTP server on 127.0.0.1 (a free port) in a thread.

Endpoints: discovery (/.well-known/openid-configuration), authorize (answers at once with a redirect back
carrying code and state, for the configured person: no login page), token (checks client secret, code,
redirect URI and the PKCE verifier; answers an RS256-signed ID token made with PyJWT), userinfo (Bearer
access token) and jwks. Knobs let a test break one thing at a time (`tamper`)."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

CLIENT_ID = "vigil-test-client"
CLIENT_SECRET = "vigil-test-secret-0123456789abcdef0123"
KID = "fake-key-1"


def new_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class Person:
    """Who signs in at the fake provider next."""

    sub: str = "fake-subject-1"
    email: str = "ada@example.org"
    email_verified: bool = True
    preferred_username: str = "ada"
    given_name: str = "Ada"
    family_name: str = "Lovelace"
    groups: list[str] | None = field(default_factory=list)
    amr: list[str] | None = field(default_factory=lambda: ["pwd"])
    acr: str | None = None
    extra: dict = field(default_factory=dict)

    def userinfo(self) -> dict:
        claims = {
            "sub": self.sub,
            "email": self.email,
            "email_verified": self.email_verified,
            "preferred_username": self.preferred_username,
            "given_name": self.given_name,
            "family_name": self.family_name,
            **self.extra,
        }
        if self.groups is not None:
            claims["groups"] = list(self.groups)
        return claims


class FakeProvider:
    def __init__(self, signing_key, other_key):
        self.signing_key = signing_key
        self.other_key = other_key  # signs "tampered" tokens under the same kid
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self.issuer = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.reset()

    # -- control ---------------------------------------------------------------------------------------

    def start(self) -> FakeProvider:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def reset(self) -> None:
        self.person = Person()
        self.tamper: set[str] = set()
        self.codes: dict[str, dict] = {}
        self.tokens: dict[str, dict] = {}
        self.hits: list[str] = []
        self.authorize_requests: list[dict] = []
        self.token_requests: list[dict] = []

    def url(self, path: str) -> str:
        return self.issuer + path

    @property
    def discovery_url(self) -> str:
        return self.url("/.well-known/openid-configuration")

    def jwk(self, key=None) -> dict:
        public = (key or self.signing_key).public_key()
        data = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(public))
        return {**data, "kid": KID, "use": "sig", "alg": "RS256"}

    # -- the protocol ----------------------------------------------------------------------------------

    def discovery(self) -> dict:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": self.url("/authorize"),
            "token_endpoint": self.url("/token"),
            "userinfo_endpoint": self.url("/userinfo"),
            "jwks_uri": self.url("/jwks"),
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
        }

    def authorize(self, query: dict[str, str]) -> tuple[int, dict, bytes]:
        self.authorize_requests.append(query)
        if query.get("client_id") != CLIENT_ID or query.get("response_type") != "code":
            return 400, {}, b"bad client or response type"
        code = secrets.token_urlsafe(16)
        self.codes[code] = {
            "nonce": query.get("nonce"),
            "redirect_uri": query["redirect_uri"],
            "code_challenge": query.get("code_challenge"),
            "code_challenge_method": query.get("code_challenge_method"),
            "person": self.person,
        }
        state = query.get("state", "")
        if "state" in self.tamper:
            state = "not-the-state-" + state[:8]
        params = {"code": code, "state": state}
        if "deny" in self.tamper:
            params = {"error": "access_denied", "error_description": "The person cancelled", "state": state}
        return 302, {"Location": f"{query['redirect_uri']}?{urlencode(params)}"}, b""

    def token(self, form: dict[str, str], headers) -> tuple[int, dict, bytes]:
        self.token_requests.append(form)
        secret = form.get("client_secret")
        basic = headers.get("Authorization", "")
        if basic.startswith("Basic "):
            _user, _, secret = base64.b64decode(basic[6:]).decode().partition(":")
        if form.get("client_id", CLIENT_ID) != CLIENT_ID or secret != CLIENT_SECRET:
            return _json(401, {"error": "invalid_client"})
        grant = self.codes.pop(form.get("code", ""), None)  # one use only
        if grant is None or form.get("grant_type") != "authorization_code":
            return _json(400, {"error": "invalid_grant"})
        if form.get("redirect_uri") != grant["redirect_uri"]:
            return _json(400, {"error": "invalid_grant", "error_description": "redirect_uri"})
        if grant["code_challenge"]:
            verifier = form.get("code_verifier", "")
            digest = hashlib.sha256(verifier.encode()).digest()
            expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
            if grant["code_challenge_method"] != "S256" or expected != grant["code_challenge"]:
                return _json(400, {"error": "invalid_grant", "error_description": "PKCE"})
        person: Person = grant["person"]
        access_token = secrets.token_urlsafe(16)
        self.tokens[access_token] = person.userinfo()
        return _json(
            200,
            {
                "access_token": access_token,
                "token_type": "Bearer",
                "expires_in": 300,
                "id_token": self.id_token(person, grant["nonce"]),
            },
        )

    def id_token(self, person: Person, nonce: str | None) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": person.sub,
            "aud": CLIENT_ID,
            "exp": now + 300,
            "iat": now,
            "auth_time": now,
            "nonce": nonce,
            "email": person.email,
            "email_verified": person.email_verified,
        }
        if person.amr is not None:
            claims["amr"] = person.amr
        if person.acr is not None:
            claims["acr"] = person.acr
        if person.groups is not None:
            claims["groups"] = list(person.groups)
        if "nonce" in self.tamper:
            claims["nonce"] = "not-the-nonce"
        if "aud" in self.tamper:
            claims["aud"] = "another-client"
        if "iss" in self.tamper:
            claims["iss"] = "https://evil.example.org"
        if "expired" in self.tamper:
            claims["exp"], claims["iat"] = now - 3600, now - 7200
        if "no_sub" in self.tamper:
            del claims["sub"]
        if "hs256" in self.tamper:  # the algorithm-confusion attack: HMAC with the client secret
            return jwt.encode(claims, CLIENT_SECRET, algorithm="HS256", headers={"kid": KID})
        if "unsigned" in self.tamper:
            return jwt.encode(claims, None, algorithm="none", headers={"kid": KID})
        key = self.other_key if "signature" in self.tamper else self.signing_key
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": KID})

    def userinfo(self, headers) -> tuple[int, dict, bytes]:
        auth = headers.get("Authorization", "")
        claims = self.tokens.get(auth.removeprefix("Bearer "))
        if not auth.startswith("Bearer ") or claims is None:
            return _json(401, {"error": "invalid_token"})
        if "userinfo_sub" in self.tamper:
            claims = {**claims, "sub": "somebody-else"}
        return _json(200, claims)


def _json(status: int, body: dict) -> tuple[int, dict, bytes]:
    return status, {"Content-Type": "application/json"}, json.dumps(body).encode()


def _handler_for(provider: FakeProvider):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # quiet
            pass

        def _send(self, status: int, headers: dict, body: bytes) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            parts = urlsplit(self.path)
            provider.hits.append(parts.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            if parts.path == "/.well-known/openid-configuration":
                self._send(*_json(200, provider.discovery()))
            elif parts.path == "/jwks":
                self._send(*_json(200, {"keys": [provider.jwk()]}))
            elif parts.path == "/authorize":
                self._send(*provider.authorize(query))
            elif parts.path == "/userinfo":
                self._send(*provider.userinfo(self.headers))
            else:
                self._send(404, {}, b"not found")

        def do_POST(self):
            parts = urlsplit(self.path)
            provider.hits.append(parts.path)
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            if parts.path == "/token":
                self._send(*provider.token(form, self.headers))
            else:
                self._send(404, {}, b"not found")

    return Handler
