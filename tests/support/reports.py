"""What the report tests share: raw secrets to feed the writers (they must mask them again, whatever
they are given) and the report files of a ``sergio-kit check`` run to grep for them."""

from __future__ import annotations

import re

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"
API_KEY = "sk_test_4eC39HqLyjWDarjtT1zdp7dc"
WEBHOOK_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLSQ2"
PASSWORD = "hunter2-correct-horse"
SECRETS = (JWT, API_KEY, WEBHOOK_SECRET, PASSWORD)
#: Anything shaped like a JWT (header and payload), masked or not.
JWT_SHAPE = re.compile(r"eyJ[A-Za-z0-9_-]*\.eyJ")
REPORT_NAMES = ("report.json", "junit.xml", "report.html", "summary.md")
