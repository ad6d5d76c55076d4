"""The docs/api.md walk-through with Python requests: upsert clients, create a
message and a mailing, poll its progress, read failed attempts.

    MAILSITE_URL=http://127.0.0.1:8000 MAILSITE_TOKEN=msk_... python docs/api_example.py

Uses only the documented API (/api/v1/schema/) and plain requests. Prints a
JSON summary on its last line.
"""

import json
import os
import sys
import time
from datetime import UTC, datetime, timedelta

import requests

BASE = os.environ.get("MAILSITE_URL", "http://127.0.0.1:8000").rstrip("/") + "/api/v1"
session = requests.Session()
session.headers["Authorization"] = "Bearer " + os.environ["MAILSITE_TOKEN"]


def call(method, path, **kwargs):
    """One API call; an error answer stops the script with its code and field errors."""
    while True:
        response = session.request(method, BASE + path, timeout=30, **kwargs)
        if response.status_code == 429:  # throttled: wait as told, then try again
            time.sleep(int(response.headers.get("Retry-After", "1")))
            continue
        if response.status_code >= 400:
            sys.exit(f"{method} {path}: {response.status_code} {response.text}")
        return response.json() if response.content else None


# 1. Create or update clients (up to 10,000 per request); bad rows are reported, the rest are saved.
people = [
    {"email": "ann@example.org", "full_name": "Ann Smith", "comment": "from the CRM"},
    {"email": "bob@example.org", "full_name": "Bob Jones"},
    {"email": "carol@example.org", "full_name": "Carol White"},
    {"email": "not an email", "full_name": "Broken Row"},
]
report = call("POST", "/clients/bulk/", json={"clients": people, "on_existing": "update"})
print("upsert:", report["created"], "created,", report["updated"], "updated,", report["error_count"], "bad rows")
for error in report["errors"]:
    print(f"  row {error['index']}: {error['field']} {error['code']}: {error['message']}")

# Their ids, by the email filter.
ids = [call("GET", "/clients/", params={"email": p["email"]})["results"][0]["id"] for p in people[:3]]

# 2. A message.
message = call("POST", "/messages/", json={"subject": "Our spring sale", "body": "Hello!\n\n20% off all week."})

# 3. A mailing to those clients, sent once, starting now.
now = datetime.now(UTC)
mailing = call(
    "POST",
    "/mailings/",
    json={
        "message": message["id"],
        "clients": ids,
        "periodicity": "once",
        "start_at": now.isoformat(),
        "end_at": (now + timedelta(days=1)).isoformat(),
    },
)
print("mailing", mailing["id"], "created:", mailing["status"])

# 4. Poll its progress until its run has finished.
deadline = time.monotonic() + float(os.environ.get("MAILSITE_WAIT", "120"))
while True:
    runs = call("GET", "/runs/", params={"mailing": mailing["id"]})["results"]
    if runs and runs[0]["status"] in ("finished", "stopped"):
        run = runs[0]
        break
    if time.monotonic() > deadline:
        sys.exit("the mailing did not finish in time")
    time.sleep(1)
print(f"run {run['id']}: {run['sent_count']} sent, {run['failed_count']} failed")

# 5. The failed attempts, with the mail server's reply (cursor pages: follow "next").
failed, url, params = [], f"{BASE}/attempts/", {"mailing": mailing["id"], "status": "failed"}
while url:
    page = session.get(url, params=params, timeout=30).json()
    failed += page["results"]
    url, params = page["next"], None
for attempt in failed:
    print(f"  {attempt['email']}: {attempt['smtp_code']} {attempt['server_reply']}")

stats = call("GET", f"/mailings/{mailing['id']}/")["stats"]
print(json.dumps({"mailing": mailing["id"], "run": run["id"], "failed_attempts": len(failed), "stats": stats}))
