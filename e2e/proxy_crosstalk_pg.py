"""proxy_crosstalk_pg.py: the cross-talk churn through sqlgate's PostgreSQL
proxy with psycopg2, the driver most Python functions use. Four setters
each connect, run SET lock_timeout / SET statement_timeout and disconnect
at once; four probers each connect and run SELECT <random k> and read the
two timeouts. Every prober must get its own k back and the server
defaults, with no error, for CHURN_SECONDS (at least 8).

Environment: PROXY_PORT, PGUSER, PGPASSWORD, DB_NAME, CHURN_SECONDS, LABEL
(the check's name).
Prints "PASS name" / "FAIL name: detail" lines.
"""

import os
import random
import sys
import threading
import time

import psycopg2

dsn = "host=127.0.0.1 port=%s user=%s password=%s dbname=%s sslmode=disable connect_timeout=30" % (
    os.environ["PROXY_PORT"], os.environ.get("PGUSER", "sqlgate"), os.environ["PGPASSWORD"], os.environ["DB_NAME"])
duration = max(8, int(os.environ.get("CHURN_SECONDS", "8")))
label = os.environ.get("LABEL", "h.pg.crosstalk.psycopg2")
stop = time.monotonic() + duration
lock = threading.Lock()
stats = {"probes": 0, "sets": 0, "wrong": 0, "errors": 0, "first": None}


def note(key, detail=None):
    with lock:
        stats[key] += 1
        if detail and stats["first"] is None:
            stats["first"] = detail


def setter(i):
    sql = "SET lock_timeout = 4321" if i % 2 == 0 else "SET statement_timeout = 98765"
    while time.monotonic() < stop:
        try:
            conn = psycopg2.connect(dsn)
            conn.autocommit = True
            cur = conn.cursor()
            cur.execute(sql)
            note("sets")
            conn.close()  # Terminate right after the reply
        except Exception as e:  # noqa: BLE001 - every failure counts
            note("errors", "setter: %s: %s" % (type(e).__name__, e))


def prober():
    while time.monotonic() < stop:
        try:
            conn = psycopg2.connect(dsn)
            conn.autocommit = True
            cur = conn.cursor()
            for _ in range(3):
                k = random.randrange(1 << 30)
                cur.execute("SELECT %d" % k)
                got = cur.fetchone()[0]
                note("probes")
                if got != k:
                    note("wrong", "asked %d, got %r" % (k, got))
                cur.execute("SELECT current_setting('lock_timeout'), current_setting('statement_timeout')")
                lt, st = cur.fetchone()
                if (lt, st) != ("0", "0"):
                    note("wrong", "prober sees lock_timeout=%s statement_timeout=%s" % (lt, st))
            conn.close()
        except Exception as e:  # noqa: BLE001
            note("errors", "prober: %s: %s" % (type(e).__name__, e))


threads = [threading.Thread(target=setter, args=(i,)) for i in range(4)] + [threading.Thread(target=prober) for _ in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
summary = "%(probes)d probes, %(sets)d sets, %(wrong)d wrong, %(errors)d errors" % stats
print(summary, file=sys.stderr)
if stats["wrong"] or stats["errors"] or stats["probes"] < 100:
    print("FAIL %s: %s; first: %s" % (label, summary, stats["first"]))
    sys.exit(1)
print("PASS %s (%s in %d s)" % (label, summary, duration))
