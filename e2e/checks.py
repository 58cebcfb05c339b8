"""checks.py is what the boto3 suites share: a PASS/FAIL line per check,
the AWS error code a call fails with, and the exit status (non-zero when
any check failed). Import it from a suite in this directory (Python puts a
script's own directory on the module path)."""

import sys

import botocore.exceptions

failed = 0
prefix = ""  # prepended to every check name (e.g. "g.boto3.")


def check(name, cond, detail=""):
    """check prints PASS name when cond holds, else FAIL name: detail."""
    global failed
    if cond:
        print("PASS " + prefix + name, flush=True)
    else:
        failed += 1
        print("FAIL " + prefix + name + ": " + str(detail), flush=True)


def code_of(fn, **kw):
    """code_of calls fn(**kw) and returns the AWS error code it fails
    with, or None when it succeeds."""
    err = _client_error(fn, **kw)
    return err and err.response["Error"]["Code"]


def code_status_of(fn, **kw):
    """code_status_of is code_of with the HTTP status: (code, status)."""
    err = _client_error(fn, **kw)
    return err and (err.response["Error"]["Code"], err.response["ResponseMetadata"]["HTTPStatusCode"])


def _client_error(fn, **kw):
    try:
        fn(**kw)
    except botocore.exceptions.ClientError as e:
        return e
    return None


def exit():
    """exit ends the suite: status 1 when any check failed."""
    sys.exit(1 if failed else 0)
