"""An SMTP server that requires a login (over plain SMTP, for a test on loopback) and writes
each login to a file, so tests/deploy_aws.rs can see which password t8k sent.

Usage: smtp_login.py PORT LOG
"""

import json
import sys
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

port, log = int(sys.argv[1]), sys.argv[2]


class Accept:
    async def handle_DATA(self, server, session, envelope):
        return "250 OK"


def login(server, session, envelope, mechanism, auth_data):
    with open(log, "a") as f:
        f.write(json.dumps({"user": auth_data.login.decode(), "password": auth_data.password.decode()}) + "\n")
    return AuthResult(success=True)


Controller(Accept(), hostname="127.0.0.1", port=port, authenticator=login,
           auth_require_tls=False, auth_required=True).start()
while True:
    time.sleep(3600)
