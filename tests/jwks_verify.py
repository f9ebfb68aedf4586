#!/usr/bin/env python3
"""Verifies Portcullis access tokens as another service would: PyJWT, with the public keys
fetched from the JWKS over HTTP and nothing else shared.

    jwks_verify.py JWKS_URL ISSUER AUDIENCE TOKEN...

Prints "ok SUB ROLE" per token; exits 1 at the first token it refuses.
"""
import sys

import jwt

url, issuer, audience, *tokens = sys.argv[1:]
client = jwt.PyJWKClient(url)
for token in tokens:
    try:
        key = client.get_signing_key_from_jwt(token)
        claims = jwt.decode(
            token,
            key.key,
            algorithms=["EdDSA", "ES256", "RS256"],
            audience=audience,
            issuer=issuer,
            options={"require": ["exp", "iat", "iss", "aud", "sub"]},
        )
    except Exception as e:  # noqa: BLE001 - any refusal is the answer
        print(f"refused: {type(e).__name__}: {e}")
        sys.exit(1)
    print("ok", claims["sub"], claims["role"])
