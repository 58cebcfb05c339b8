"""proxy_lambda_test.py: seed 004's Lambda (pymysql through RDS Proxy) against
sqlgate's MySQL proxy, then the same login with an IAM auth token over TLS.

Seed 004 reads the secret with boto3 and connects with
pymysql.connect(host=PROXY_ENDPOINT, user=, passwd=, db=, connect_timeout=5).
Debian's pymysql lives in /usr/bin/python3, which has no boto3, so run.sh
reads the secret with the aws CLI and passes its SecretString in
SECRET_STRING. Prints "PASS name" / "FAIL name: detail" lines.

Environment: PROXY_ENDPOINT, PROXY_PORT, SECRET_STRING, DB_NAME, TABLE,
IAM_TOKEN (valid token for the secret's user), BAD_TOKEN (a token whose
signer may not rds-db:connect).
"""

import json
import os
import ssl
import sys

import pymysql

failed = 0


def check(name, fn):
    global failed
    try:
        fn()
        print("PASS " + name, flush=True)
    except Exception as e:  # noqa: BLE001 - every failure is reported
        failed += 1
        print("FAIL %s: %s: %s" % (name, type(e).__name__, e), flush=True)


secret = json.loads(os.environ["SECRET_STRING"])
host = os.environ["PROXY_ENDPOINT"]
port = int(os.environ["PROXY_PORT"])
db = os.environ["DB_NAME"]
table = os.environ["TABLE"]


def tls_context():
    # The proxy's certificate is self-signed; the test checks encryption, not
    # the chain (RDS clients would pass the RDS CA bundle).
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def lambda_handler():
    # Seed 004's handler body, verbatim but for the table name.
    conn = pymysql.connect(host=host, port=port, user=secret["username"], passwd=secret["password"],
                           db=db, connect_timeout=5)
    try:
        with conn.cursor() as cur:
            cur.execute("create table if not exists %s ( CustID  int NOT NULL, Name varchar(255) NOT NULL, "
                        "PRIMARY KEY (CustID))" % table)
            cur.execute("insert into %s (CustID, Name) values(%%s, %%s)" % table, ("1", "custNameSample"))
            conn.commit()
            cur.execute("select * from %s" % table)
            result = cur.fetchall()
            assert result == ((1, "custNameSample"),), result
        conn.commit()
    finally:
        conn.close()


def rollback_not_visible():
    conn = pymysql.connect(host=host, port=port, user=secret["username"], passwd=secret["password"], db=db)
    other = pymysql.connect(host=host, port=port, user=secret["username"], passwd=secret["password"], db=db)
    try:
        with conn.cursor() as cur:
            cur.execute("insert into %s values (2, 'rolled back')" % table)
            with other.cursor() as ocur:
                ocur.execute("select count(*) from %s" % table)
                assert ocur.fetchone() == (1,), "uncommitted row visible to another client"
            # pymysql runs with autocommit off: end other's transaction so
            # that it releases its metadata lock before the drop below.
            other.commit()
            conn.rollback()
            cur.execute("select count(*) from %s" % table)
            assert cur.fetchone() == (1,), "rollback kept the row"
            cur.execute("drop table %s" % table)
    finally:
        conn.close()
        other.close()


def wrong_password():
    try:
        pymysql.connect(host=host, port=port, user=secret["username"], passwd="not-the-password", db=db)
    except pymysql.err.OperationalError as e:
        assert e.args[0] == 1045, e.args
        return
    raise AssertionError("login with a wrong password succeeded")


def iam_token():
    conn = pymysql.connect(host=host, port=port, user=secret["username"], password=os.environ["IAM_TOKEN"],
                           db=db, ssl=tls_context(), connect_timeout=5)
    try:
        with conn.cursor() as cur:
            cur.execute("select 'iam ok', @@ssl_cipher is not null")
            got = cur.fetchone()
            assert got[0] == "iam ok", got
    finally:
        conn.close()


def iam_token_denied():
    try:
        pymysql.connect(host=host, port=port, user=secret["username"], password=os.environ["BAD_TOKEN"],
                        db=db, ssl=tls_context(), connect_timeout=5)
    except pymysql.err.OperationalError as e:
        assert e.args[0] == 1045, e.args
        return
    raise AssertionError("a token without rds-db:connect was accepted")


check("h.pymysql.seed004-lambda", lambda_handler)
check("h.pymysql.rollback-isolated", rollback_not_visible)
check("h.pymysql.wrong-password-1045", wrong_password)
check("h.pymysql.iam-token-tls", iam_token)
check("h.pymysql.iam-token-without-policy-1045", iam_token_denied)
sys.exit(1 if failed else 0)
