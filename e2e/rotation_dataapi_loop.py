"""Data API traffic during a rotation (e2e/suite_rotation.sh).

Usage: rotation_dataapi_loop.py SECRET_ARN CLUSTER_ARN STOP_FILE OUT_FILE

Runs SELECT 1 through rds-data ExecuteStatement with boto3 (no client
retries) until STOP_FILE exists, appending "ok EPOCH" or "fail EPOCH error"
to OUT_FILE for every call.
"""
import os
import sys
import time

import boto3
from botocore.config import Config


def main():
    secret, cluster, stop, out = sys.argv[1:5]
    client = boto3.client("rds-data", endpoint_url=os.environ["SQLGATE_ENDPOINT"],
                          config=Config(retries={"max_attempts": 1, "mode": "standard"}, read_timeout=30))
    deadline = time.time() + 300
    with open(out, "a", buffering=1) as f:
        while not os.path.exists(stop) and time.time() < deadline:
            try:
                r = client.execute_statement(resourceArn=cluster, secretArn=secret, database="sqlgate_e2e", sql="select 1")
                if r["records"] != [[{"longValue": 1}]]:
                    raise ValueError("unexpected records %r" % r["records"])
                f.write("ok %.3f\n" % time.time())
            except Exception as e:  # every failure is a finding
                f.write("fail %.3f %s\n" % (time.time(), str(e).replace("\n", " ")))


if __name__ == "__main__":
    main()
