"""A real SMTP server on loopback for the integration tests (aiosmtpd): every message it
receives is written to DIR as one file (envelope recipients first, then the raw message).
Usage: /usr/bin/python3 tests/smtp_sink.py PORT DIR [DELAY_SECONDS [USER:PASSWORD|- [MODE CERT KEY]]];
with USER:PASSWORD it requires AUTH (PLAIN or LOGIN) with exactly those; MODE `starttls` offers
and requires STARTTLS, `tls` speaks TLS from the first byte (implicit TLS), both with the given
certificate. It prints "ready" once listening and stops when its standard input closes."""
import asyncio
import os
import ssl
import sys
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Sink:
    def __init__(self, folder, delay):
        self.folder = folder
        self.delay = delay
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        self.count += 1
        path = os.path.join(self.folder, f"{time.time_ns()}-{self.count}.eml")
        with open(path + ".part", "wb") as f:
            f.write(b"X-Envelope-To: " + ",".join(envelope.rcpt_tos).encode() + b"\r\n")
            f.write(envelope.original_content or envelope.content)
        os.rename(path + ".part", path)
        return "250 OK"


class Credentials:
    def __init__(self, pair):
        user, password = pair.split(":", 1)
        self.expected = (user.encode(), password.encode())

    def __call__(self, server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == self.expected
        return AuthResult(success=ok)


def main():
    port, folder = int(sys.argv[1]), sys.argv[2]
    delay = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0
    options = {}
    if len(sys.argv) > 4 and sys.argv[4] != "-":
        options.update(auth_required=True, auth_require_tls=False, authenticator=Credentials(sys.argv[4]))
    if len(sys.argv) > 7:
        mode, cert, key = sys.argv[5], sys.argv[6], sys.argv[7]
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        if mode == "starttls":
            options.update(tls_context=context, require_starttls=True)
        else:
            options.update(ssl_context=context, server_hostname="localhost")
    controller = Controller(Sink(folder, delay), hostname="127.0.0.1", port=port, **options)
    controller.start()
    print("ready", flush=True)
    sys.stdin.read()
    controller.stop()


if __name__ == "__main__":
    main()
