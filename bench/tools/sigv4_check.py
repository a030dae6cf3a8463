"""Cross-check loadgen's SigV4 against botocore (installed with moto in the venv).

usage: bench/.cache/venv/bin/python bench/tools/sigv4_check.py bench/target/release/loadgen
"""
import datetime
import subprocess
import sys
from unittest import mock

from botocore import auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

loadgen = sys.argv[1]
cases = [
    (1_700_000_000, "DynamoDB_20120810.ListTables", "{}"),
    (1_767_225_599, "DynamoDB_20120810.GetItem",
     '{"TableName":"bench","Key":{"pk":{"S":"hot-0001"},"sk":{"S":"0"}}}'),
]
# REST-JSON (Lambda Invoke): signed headers content-type;host;x-amz-date, service lambda.
rest_cases = [
    (1_700_000_000, "POST", "/2015-03-31/functions/PyOk/invocations", "{}"),
]
bad = 0
for t, method, path, body in rest_cases:
    req = AWSRequest(method=method, url="http://127.0.0.1:8000" + path, data=body.encode(),
                     headers={"Content-Type": "application/json"})
    fixed = datetime.datetime.fromtimestamp(t, datetime.timezone.utc).replace(tzinfo=None)
    with mock.patch.object(auth, "get_current_datetime", return_value=fixed):
        auth.SigV4Auth(Credentials("test", "test"), "lambda", "us-east-1").add_auth(req)
    want = req.headers["Authorization"]
    out = subprocess.run([loadgen, "sign", "--endpoint", "http://127.0.0.1:8000", "--time", str(t),
                          "--service", "lambda", "--method", method, "--path", path, "--body", body],
                         capture_output=True, text=True, check=True).stdout
    got = next(l for l in out.splitlines() if l.startswith("Authorization: "))[len("Authorization: "):]
    ok = got.strip() == want
    bad += not ok
    print("ok  " if ok else "FAIL", method, path, t, "" if ok else f"\n  want {want}\n  got  {got}")
for t, target, body in cases:
    req = AWSRequest(method="POST", url="http://127.0.0.1:8000/", data=body.encode(),
                     headers={"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": target})
    fixed = datetime.datetime.fromtimestamp(t, datetime.timezone.utc).replace(tzinfo=None)
    with mock.patch.object(auth, "get_current_datetime", return_value=fixed):
        auth.SigV4Auth(Credentials("test", "test"), "dynamodb", "us-east-1").add_auth(req)
    want = req.headers["Authorization"]
    out = subprocess.run([loadgen, "sign", "--endpoint", "http://127.0.0.1:8000", "--time", str(t),
                          "--target", target, "--body", body], capture_output=True, text=True, check=True).stdout
    got = next(l for l in out.splitlines() if l.startswith("Authorization: "))[len("Authorization: "):]
    ok = got.strip() == want
    bad += not ok
    print("ok  " if ok else "FAIL", target, t, "" if ok else f"\n  want {want}\n  got  {got}")
print(f"{len(cases) + len(rest_cases) - bad} passed, {bad} failed")
sys.exit(1 if bad else 0)
