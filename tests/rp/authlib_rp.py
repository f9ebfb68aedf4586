"""A second relying party written by someone else: authlib (PyPI), driven by
tests/api/oidc/relying_parties.rs against a running Portcullis. It prints the authorization URL
it built (PKCE S256, state, nonce), reads the callback URL on stdin, redeems the code with
client_secret_basic (authlib sends Basic credentials without form-encoding them: Portcullis's
secrets are URL-safe), verifies the ID token with the JWKS (issuer, audience, nonce, expiry),
calls userinfo and refreshes. One JSON line on stdout.

Environment: ISSUER, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, SCOPE.
"""

import json
import os
import sys

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey, jwt
from authlib.oidc.core import CodeIDToken

issuer = os.environ["ISSUER"]
client_id = os.environ["CLIENT_ID"]
meta = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=10).json()
assert meta["issuer"] == issuer, meta["issuer"]

session = OAuth2Session(
    client_id,
    os.environ["CLIENT_SECRET"],
    scope=os.environ["SCOPE"],
    redirect_uri=os.environ["REDIRECT_URI"],
    code_challenge_method="S256",
    token_endpoint_auth_method="client_secret_basic",
)
verifier = generate_token(64)
nonce = generate_token(20)
url, state = session.create_authorization_url(
    meta["authorization_endpoint"], code_verifier=verifier, nonce=nonce
)
print(url, flush=True)
callback = sys.stdin.readline().strip()

token = session.fetch_token(
    meta["token_endpoint"], authorization_response=callback, state=state, code_verifier=verifier
)
keys = JsonWebKey.import_key_set(requests.get(meta["jwks_uri"], timeout=10).json())
claims = jwt.decode(
    token["id_token"],
    keys,
    claims_cls=CodeIDToken,
    claims_options={"iss": {"essential": True, "value": issuer}},
    claims_params={"nonce": nonce, "client_id": client_id},
)
claims.validate()
userinfo = session.get(meta["userinfo_endpoint"], timeout=10).json()
renewed = session.refresh_token(meta["token_endpoint"], refresh_token=token["refresh_token"])
print(json.dumps({
    "claims": dict(claims),
    "userinfo": userinfo,
    "refreshed": renewed["refresh_token"] != token["refresh_token"],
}))
