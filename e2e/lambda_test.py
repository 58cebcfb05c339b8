"""lambda_test.py drives sqlgate with boto3 the way seed 000's Lambda does.

It runs, for each cluster named in E2E_CLUSTERS, a batch insert with
parameterSets, a committed and a rolled-back transaction, an SQL error that must
surface as ClientError DatabaseErrorException, an unknown transaction id, and
the seed's lambda_handler itself. Each check prints "PASS name" or
"FAIL name: detail"; the exit code is 1 when any check failed.

Environment:
  SQLGATE_ENDPOINT  http://127.0.0.1:PORT
  E2E_CLUSTERS      JSON list of {"label", "resourceArn", "secretArn", "database"}
  E2E_SECRET_NAME   a secret whose value is {"username": ..., "password": ...}
  AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION  as for any boto3 client
"""

import json
import os
import sys
import traceback

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

ENDPOINT = os.environ["SQLGATE_ENDPOINT"]
REGION = os.environ.get("AWS_REGION", "us-east-1")
CONFIG = Config(retries={"max_attempts": 1, "mode": "standard"},
                connect_timeout=5, read_timeout=60)

failures = 0


def ok(name):
    print(f"PASS {name}", flush=True)


def bad(name, detail):
    global failures
    failures += 1
    detail = str(detail).replace("\n", " ")[:600]
    print(f"FAIL {name}: {detail}", flush=True)


def check(name, fn):
    """check runs fn; a falsy result or an exception is a failure."""
    try:
        got = fn()
    except ClientError as e:
        bad(name, f"ClientError {e.response['Error'].get('Code')}: "
                  f"{e.response['Error'].get('Message')}")
        return None
    except Exception as e:  # noqa: BLE001 - any crash is a failed check
        bad(name, f"{type(e).__name__}: {e}")
        return None
    if isinstance(got, tuple):
        passed, detail = got
        if passed:
            ok(name)
        else:
            bad(name, detail)
        return got
    if got is False:
        bad(name, "check returned False")
    else:
        ok(name)
    return got


def expect_error(name, codes, fn):
    """expect_error passes when fn raises ClientError with a code in codes."""
    try:
        got = fn()
    except ClientError as e:
        code = e.response["Error"].get("Code")
        status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in codes:
            ok(f"{name} ({code}, HTTP {status})")
        else:
            bad(name, f"want {'|'.join(codes)}, got {code} (HTTP {status}): "
                      f"{e.response['Error'].get('Message')}")
        return
    except Exception as e:  # noqa: BLE001
        bad(name, f"want ClientError {'|'.join(codes)}, got {type(e).__name__}: {e}")
        return
    bad(name, f"succeeded, want {'|'.join(codes)}: {got}")


def strip(resp):
    resp = dict(resp)
    resp.pop("ResponseMetadata", None)
    return resp


def make_lambda_handler(client, dbcluster_arn, dbname, dbtable, secret_arn):
    """make_lambda_handler is seed 000's Lambda body with its env bound."""
    sql = 'select * from {table};'.format(table=dbtable)

    def lambda_handler(event, context):
        response = client.execute_statement(
            database=dbname,
            resourceArn=dbcluster_arn,
            schema='mysql',
            secretArn=secret_arn,
            sql=sql
        )
        return {
            'statusCode': 200,
            'body': json.dumps(response, indent=2)
        }
    return lambda_handler


def run_cluster(client, c):
    label = "c." + c["label"]
    base = {"resourceArn": c["resourceArn"], "secretArn": c["secretArn"]}
    if c.get("database"):
        base["database"] = c["database"]

    def ex(sql, **kw):
        return client.execute_statement(sql=sql, **base, **kw)

    def select_ids():
        r = ex("SELECT id FROM e2e_lambda ORDER BY id")
        return [row[0].get("longValue") for row in r["records"]]

    check(f"{label}.setup", lambda: (ex("DROP TABLE IF EXISTS e2e_lambda"), ex(
        "CREATE TABLE e2e_lambda (id INT PRIMARY KEY, name VARCHAR(50), price DOUBLE PRECISION)"))
        and True)

    # Batch insert with parameterSets.
    rows = [(1, "one", 1.5), (2, "two", 2.25), (3, "three", 3.0)]
    param_sets = [[
        {"name": "id", "value": {"longValue": i}},
        {"name": "name", "value": {"stringValue": n}},
        {"name": "price", "value": {"doubleValue": p}},
    ] for i, n, p in rows]

    def batch():
        r = client.batch_execute_statement(
            sql="INSERT INTO e2e_lambda (id, name, price) VALUES (:id, :name, :price)",
            parameterSets=param_sets, **base)
        n = len(r.get("updateResults", []))
        return n == 3, f"want 3 updateResults, got {n}: {strip(r)}"
    check(f"{label}.batch-execute", batch)

    def batch_rows():
        r = ex("SELECT id, name, price FROM e2e_lambda ORDER BY id")
        want = [[{"longValue": i}, {"stringValue": n}, {"doubleValue": p}] for i, n, p in rows]
        return r.get("records") == want, f"want records {want}, got {strip(r)}"
    check(f"{label}.batch-rows", batch_rows)

    # Transaction: begin / execute / commit, row visible afterwards.
    def commit_flow():
        tx = client.begin_transaction(**base)["transactionId"]
        ex("INSERT INTO e2e_lambda (id, name, price) VALUES (:id, :name, :price)",
           transactionId=tx,
           parameters=[{"name": "id", "value": {"longValue": 10}},
                       {"name": "name", "value": {"stringValue": "committed"}},
                       {"name": "price", "value": {"isNull": True}}])
        outside = select_ids()
        if 10 in outside:
            return False, f"uncommitted row visible outside the transaction: {outside}"
        st = client.commit_transaction(resourceArn=c["resourceArn"],
                                       secretArn=c["secretArn"], transactionId=tx)
        if st.get("transactionStatus") != "Transaction Committed":
            return False, f"commit status {st.get('transactionStatus')!r}"
        ids = select_ids()
        return 10 in ids, f"committed row 10 missing: {ids}"
    check(f"{label}.transaction-commit", commit_flow)

    # Transaction: begin / execute / rollback, row gone.
    def rollback_flow():
        tx = client.begin_transaction(**base)["transactionId"]
        ex("INSERT INTO e2e_lambda (id, name) VALUES (20, 'rolled back')", transactionId=tx)
        inside = ex("SELECT COUNT(*) FROM e2e_lambda WHERE id = 20", transactionId=tx)
        if inside.get("records") != [[{"longValue": 1}]]:
            return False, f"row not visible inside its transaction: {strip(inside)}"
        st = client.rollback_transaction(resourceArn=c["resourceArn"],
                                         secretArn=c["secretArn"], transactionId=tx)
        if st.get("transactionStatus") != "Rollback Complete":
            return False, f"rollback status {st.get('transactionStatus')!r}"
        ids = select_ids()
        return 20 not in ids, f"rolled-back row 20 present: {ids}"
    check(f"{label}.transaction-rollback", rollback_flow)

    expect_error(f"{label}.sql-error", ["DatabaseErrorException"],
                 lambda: ex("SELECT * FROM e2e_no_such_table"))
    expect_error(f"{label}.unknown-transaction-commit",
                 ["TransactionNotFoundException", "NotFoundException"],
                 lambda: client.commit_transaction(
                     resourceArn=c["resourceArn"], secretArn=c["secretArn"],
                     transactionId="e2e-unknown-transaction-0000"))
    expect_error(f"{label}.unknown-transaction-rollback",
                 ["TransactionNotFoundException", "NotFoundException"],
                 lambda: client.rollback_transaction(
                     resourceArn=c["resourceArn"], secretArn=c["secretArn"],
                     transactionId="e2e-unknown-transaction-0000"))

    # Seed 000's Lambda handler, unchanged but for its environment.
    def handler():
        h = make_lambda_handler(client, c["resourceArn"], c.get("database", ""),
                                "e2e_lambda", c["secretArn"])
        if not c.get("database"):
            return False, "no database configured for the handler"
        out = h({}, None)
        body = json.loads(out["body"])
        n = len(body.get("records", []))
        return (out["statusCode"] == 200 and n == 4,
                f"want 4 records, got {n}: {out['body'][:300]}")
    check(f"{label}.lambda-handler", handler)


def main():
    clusters = json.loads(os.environ["E2E_CLUSTERS"])
    rds = boto3.client("rds-data", region_name=REGION, endpoint_url=ENDPOINT, config=CONFIG)
    sm = boto3.client("secretsmanager", region_name=REGION, endpoint_url=ENDPOINT,
                      config=CONFIG)

    secret_name = os.environ.get("E2E_SECRET_NAME")
    if secret_name:
        def get_secret():
            v = json.loads(sm.get_secret_value(SecretId=secret_name)["SecretString"])
            return v.get("username") == "sqlgate", f"unexpected secret value keys {sorted(v)}"
        check("c.boto3-get-secret-value", get_secret)
        expect_error("c.boto3-get-missing-secret", ["ResourceNotFoundException"],
                     lambda: sm.get_secret_value(SecretId="e2e-no-such-secret"))

    for c in clusters:
        try:
            run_cluster(rds, c)
        except Exception:  # noqa: BLE001
            bad(f"c.{c['label']}", traceback.format_exc())
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
