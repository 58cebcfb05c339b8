"""sign.py prints SigV4 headers for a request, one "Name: value" a line, for
`curl -H @file`. botocore signs exactly as the aws CLI and boto3 do (headers
content-type;host;x-amz-date[;x-amz-target], body hashed, no
X-Amz-Content-Sha256).

Usage: python3 sign.py URL SERVICE BODY_FILE [Header: value ...]
Credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, the region
from AWS_REGION (default us-east-1).
"""

import os
import sys

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def main():
    url, service, body_file, *extra = sys.argv[1:]
    with open(body_file, "rb") as f:
        body = f.read()
    headers = {}
    for h in extra:
        k, _, v = h.partition(":")
        headers[k.strip()] = v.strip()
    req = AWSRequest(method="POST", url=url, data=body, headers=headers)
    creds = Credentials(os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"])
    SigV4Auth(creds, service, os.environ.get("AWS_REGION", "us-east-1")).add_auth(req)
    for k, v in req.headers.items():
        if k.lower() in ("host", "content-length"):
            continue  # curl sets these itself
        print(f"{k}: {v}")


if __name__ == "__main__":
    main()
