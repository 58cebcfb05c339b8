"""proxy_churn_test.py: the cross-talk test through sqlgate's MySQL proxy
with pymysql (the driver most Python functions use).

4 threads each connect, run SET SESSION lock_wait_timeout = 4321,
SET @v = ..., SET NAMES latin1 and disconnect at once (every other time
without waiting for the last reply), while 4 others each connect and run
SELECT <random k> and check they got their own k and a clean session.
Runs CHURN_SECONDS (default 8); every probe must be right, with no error.
Prints "PASS name" / "FAIL name: detail" lines; exits non-zero on failure.

Environment: PROXY_ENDPOINT, PROXY_PORT, SECRET_STRING (JSON with username
and password), DB_NAME, CHURN_SECONDS, LABEL (for the check names).
"""

import json
import os
import random
import socket
import struct
import sys
import threading
import time

import pymysql

secret = json.loads(os.environ["SECRET_STRING"])
host = os.environ["PROXY_ENDPOINT"]
port = int(os.environ["PROXY_PORT"])
db = os.environ["DB_NAME"]
seconds = float(os.environ.get("CHURN_SECONDS", "8"))
label = os.environ.get("LABEL", "pymysql")

lock = threading.Lock()
stats = {"probes": 0, "churns": 0, "errors": 0, "wrong": 0}
first = []
deadline = time.monotonic() + seconds


def connect():
    return pymysql.connect(host=host, port=port, user=secret["username"], passwd=secret["password"],
                           db=db, connect_timeout=5, read_timeout=30, write_timeout=30, autocommit=True)


def note(key, detail=None):
    with lock:
        stats[key] += 1
        if detail and len(first) < 5:
            first.append(detail)


def churner(seed):
    r = random.Random(seed)
    while time.monotonic() < deadline:
        try:
            conn = connect()
        except Exception as e:  # noqa: BLE001 - counted, reported below
            note("errors", "churn connect: %r" % e)
            continue
        try:
            cur = conn.cursor()
            cur.execute("SET SESSION lock_wait_timeout = 4321")
            cur.execute("SET @v = 'churn-%d'" % r.randrange(10**6))
            if r.random() < 0.5:
                # Send the last statement and leave without reading its reply.
                conn._execute_command(pymysql.constants.COMMAND.COM_QUERY, "SET NAMES latin1")
                abort(conn)
            else:
                cur.execute("SET NAMES latin1")
                conn.close()
            note("churns")
        except Exception as e:  # noqa: BLE001
            note("errors", "churn: %r" % e)
            abort(conn)


def abort(conn):
    # Close the socket at once (RST), no COM_QUIT.
    try:
        sock = conn._sock
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()
    except OSError:
        pass


def prober(seed):
    r = random.Random(seed)
    while time.monotonic() < deadline:
        k = r.randrange(1, 2**40)
        try:
            conn = connect()
            try:
                cur = conn.cursor()
                cur.execute("SELECT %d" % k)
                got = cur.fetchall()
                cur.execute("SELECT @@session.lock_wait_timeout, @@character_set_client, @v IS NULL, %d" % k)
                state = cur.fetchall()
            finally:
                conn.close()
        except Exception as e:  # noqa: BLE001
            note("errors", "probe %d: %r" % (k, e))
            continue
        if got != ((k,),) or state[0][3] != k or state[0][0] == 4321 or state[0][1] != "utf8mb4" or state[0][2] != 1:
            note("wrong", "probe %d got %r then %r" % (k, got, state))
        note("probes")


def churn():
    threads = [threading.Thread(target=churner, args=(i,)) for i in range(4)]
    threads += [threading.Thread(target=prober, args=(100 + i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    detail = "%(probes)d probes, %(churns)d churning clients, %(wrong)d wrong, %(errors)d errors" % stats
    print("churn: %s in %.0f s; first problems: %s" % (detail, seconds, first), file=sys.stderr)
    if stats["wrong"] or stats["errors"] or stats["probes"] < 50:
        print("FAIL %s.churn: %s; first: %s" % (label, detail, first[:3]))
        return False
    print("PASS %s.churn (%s)" % (label, detail))
    return True


def main():
    ok = churn()
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
