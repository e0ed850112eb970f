"""A minimal in-process stand-in for Vault's transit engine (Vault itself cannot run here).

Implements only what `policies.vault` calls: `POST /v1/<mount>/encrypt/<key>` and
`POST /v1/<mount>/decrypt/<key>` with `associated_data`, token checks, versioned ciphertext
(`vault:v<n>:<base64>`), and key rotation, with AES-256-GCM as transit's `aes256-gcm96` does.
"""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


class TransitEmulator:
    def __init__(self, token: str, mount: str = "transit", key_name: str = "crossforce-kek"):
        self.token = token
        self.key_name = key_name
        self.versions: list[bytes] = [AESGCM.generate_key(bit_length=256)]
        self.calls: list[str] = []
        self.app = Starlette(
            routes=[Route(f"/v1/{mount}/{{op}}/{{name}}", self.handle, methods=["POST"])]
        )

    def rotate(self) -> int:
        self.versions.append(AESGCM.generate_key(bit_length=256))
        return len(self.versions)

    async def handle(self, request: Request) -> JSONResponse:
        op, name = request.path_params["op"], request.path_params["name"]
        self.calls.append(op)
        if request.headers.get("x-vault-token") != self.token:
            return _errors(403, "permission denied")
        if name != self.key_name or op not in ("encrypt", "decrypt"):
            return _errors(404, "not found")
        body = await request.json()
        try:
            aad = base64.b64decode(body.get("associated_data", ""), validate=True)
            if op == "encrypt":
                return self._encrypt(base64.b64decode(body["plaintext"], validate=True), aad)
            return self._decrypt(str(body["ciphertext"]), aad)
        except (KeyError, binascii.Error, ValueError):
            return _errors(400, "invalid request")

    def _encrypt(self, plaintext: bytes, aad: bytes) -> JSONResponse:
        version = len(self.versions)
        nonce = os.urandom(12)
        sealed = nonce + AESGCM(self.versions[version - 1]).encrypt(nonce, plaintext, aad)
        text = f"vault:v{version}:{base64.b64encode(sealed).decode()}"
        return JSONResponse({"data": {"ciphertext": text, "key_version": version}})

    def _decrypt(self, ciphertext: str, aad: bytes) -> JSONResponse:
        prefix, label, body = ciphertext.split(":", 2)
        version = int(label.removeprefix("v"))
        if prefix != "vault" or not 1 <= version <= len(self.versions):
            return _errors(400, "invalid ciphertext")
        raw = base64.b64decode(body, validate=True)
        try:
            plaintext = AESGCM(self.versions[version - 1]).decrypt(raw[:12], raw[12:], aad)
        except InvalidTag:
            return _errors(400, "cipher: message authentication failed")
        return JSONResponse({"data": {"plaintext": base64.b64encode(plaintext).decode()}})


def _errors(status: int, message: str) -> JSONResponse:
    return JSONResponse({"errors": [message]}, status_code=status)
