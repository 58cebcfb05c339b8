"""boto3 with only AWS_CONTAINER_CREDENTIALS_FULL_URI and
AWS_CONTAINER_AUTHORIZATION_TOKEN set: the default credential chain
fetches role credentials from sqlgate, calls the Data API and Secrets
Manager, and keeps calling until it has refreshed the credentials once
(the test server's clock makes them enter boto3's 15-minute advisory
refresh window a few seconds after they are issued)."""
import sys
import time

import boto3

endpoint, cluster, secret = sys.argv[1:4]
session = boto3.session.Session(region_name="us-east-1")
data = session.client("rds-data", endpoint_url=endpoint)
sm = session.client("secretsmanager", endpoint_url=endpoint)


def akid():
    return session.get_credentials().get_frozen_credentials().access_key


def call():
    out = data.execute_statement(resourceArn=cluster, secretArn=secret, sql="SELECT 41 + 1")
    assert out["records"][0][0]["longValue"] == 42, out
    assert sm.get_secret_value(SecretId=secret)["ARN"] == secret


call()
first = akid()
assert first.startswith("ASIA"), first
deadline = time.monotonic() + 30
calls = 1
while akid() == first:
    if time.monotonic() > deadline:
        sys.exit("credentials were not refreshed within 30 s")
    time.sleep(0.2)  # poll interval
    call()
    calls += 1
call()
print(f"ok refreshed after {calls} calls: {first} -> {akid()}")
