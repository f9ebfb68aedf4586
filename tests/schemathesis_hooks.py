"""Schemathesis hooks for the Portcullis API run (tests/api/fuzzed.rs).

Every request is signed in with a Bearer access token from the token endpoint, fetched again
every few seconds: a fuzzed `POST /api/auth/logout` ends the session its token names, and the
run should go on signed in rather than collect 401s.
"""

import os

import requests
import schemathesis

BASE = os.environ["PORTCULLIS_URL"]
EMAIL = os.environ["PORTCULLIS_EMAIL"]
PASSWORD = os.environ["PORTCULLIS_PASSWORD"]


@schemathesis.auth(refresh_interval=2)
class PortcullisBearer:
    def get(self, case, ctx):
        form = {"grant_type": "password", "username": EMAIL, "password": PASSWORD}
        res = requests.post(f"{BASE}/api/auth/token", data=form, timeout=30)
        res.raise_for_status()
        return res.json()["access_token"]

    def set(self, case, data, ctx):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"


TARGET = os.environ.get("PORTCULLIS_TARGET_USER_ID")


@schemathesis.hook
def map_path_parameters(context, path_parameters):
    """Half the time (by the generated id's length, so that a case replays alike), an admin
    route acts on a real user rather than on an id that matches nobody (a 404)."""
    if TARGET and path_parameters and "id" in path_parameters and "/admin/" in context.operation.path:
        if len(str(path_parameters["id"])) % 2 == 0:
            path_parameters["id"] = TARGET
    return path_parameters
