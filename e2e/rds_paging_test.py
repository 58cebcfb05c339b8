"""boto3 paginators over sqlgate's RDS describe calls (suite_rds_describe.sh).

Usage: rds_paging_test.py create|check|delete PREFIX N. create makes N
proxies PREFIX-00… without targets; check pages through every describe
call with boto3 paginators and MaxRecords/Marker by hand and prints
"PASS name" / "FAIL name: detail"; delete removes the proxies. Needs
SQLGATE_ENDPOINT; credentials and region come from the environment.
"""
import os
import sys

import boto3
import botocore.config
import botocore.exceptions

rds = boto3.client("rds", endpoint_url=os.environ["SQLGATE_ENDPOINT"])
# botocore refuses MaxRecords below 20 before sending; this client lets the
# server answer.
unchecked = boto3.client("rds", endpoint_url=os.environ["SQLGATE_ENDPOINT"],
                         config=botocore.config.Config(parameter_validation=False))
MODE, PREFIX, N = sys.argv[1], sys.argv[2], int(sys.argv[3])
NAMES = ["%s-%02d" % (PREFIX, i) for i in range(N)]
failed = False


def check(name, fn):
    global failed
    try:
        ok = fn()
    except Exception as e:  # the check failed with an unexpected error
        ok, detail = False, repr(e)
    else:
        detail = "condition false"
    print("PASS " + name if ok else "FAIL %s: %s" % (name, detail))
    failed = failed or not ok


def error_code(fn):
    try:
        fn()
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]
    return None, 200


def paged(op, key, **kw):
    """Every item of op through its paginator, and the number of pages."""
    items, pages = [], 0
    for page in rds.get_paginator(op).paginate(PaginationConfig={"PageSize": 20}, **kw):
        items += page[key]
        pages += 1
        if len(page[key]) > 20:
            raise AssertionError("a page of %d items" % len(page[key]))
    return items, pages


def proxies_paged():
    items, pages = paged("describe_db_proxies", "DBProxies")
    names = [p["DBProxyName"] for p in items]
    return pages >= 2 and len(names) == len(set(names)) and set(NAMES) <= set(names)


def endpoints_paged():
    items, pages = paged("describe_db_proxy_endpoints", "DBProxyEndpoints")
    names = [e["DBProxyName"] for e in items if e["IsDefault"]]
    return pages >= 2 and len(names) == len(set(names)) and set(NAMES) <= set(names)


def by_hand():
    """MaxRecords and Marker as a client without paginators sends them."""
    seen, marker = [], None
    while True:
        kw = {"MaxRecords": 20}
        if marker:
            kw["Marker"] = marker
        out = rds.describe_db_proxies(**kw)
        seen += [p["DBProxyName"] for p in out["DBProxies"]]
        marker = out.get("Marker")
        if not marker:
            return len(seen) == len(set(seen)) and set(NAMES) <= set(seen)


if MODE == "create":
    for n in NAMES:
        rds.create_db_proxy(DBProxyName=n, EngineFamily="MYSQL", RoleArn="arn:aws:iam::000000000000:role/p",
                            VpcSubnetIds=["subnet-1"], Auth=[{"SecretArn": "arn:aws:secretsmanager:us-east-1:000000000000:secret:sqlgate-e2e-maria"}])
    print("PASS p.paging.boto3.create")
elif MODE == "delete":
    for n in NAMES:
        rds.delete_db_proxy(DBProxyName=n)
    print("PASS p.paging.boto3.delete")
else:
    check("p.paging.boto3.describe_db_proxies", proxies_paged)
    check("p.paging.boto3.describe_db_proxy_endpoints", endpoints_paged)
    check("p.paging.boto3.max_records_marker", by_hand)
    check("p.paging.boto3.describe_db_clusters", lambda: {c["DBClusterIdentifier"] for c in paged(
        "describe_db_clusters", "DBClusters", Filters=[{"Name": "engine", "Values": ["postgres"]}])[0]} >= {"pg"})
    check("p.paging.boto3.target_groups", lambda: paged(
        "describe_db_proxy_target_groups", "TargetGroups", DBProxyName=NAMES[0])[0][0]["Status"] == "available")
    check("p.paging.boto3.targets", lambda: paged("describe_db_proxy_targets", "Targets", DBProxyName=NAMES[0])[0] == [])
    check("p.paging.boto3.max_records_19", lambda: error_code(
        lambda: unchecked.describe_db_proxies(MaxRecords=19)) == ("InvalidParameterValue", 400))
    check("p.paging.boto3.max_records_101", lambda: error_code(
        lambda: rds.describe_db_proxy_target_groups(DBProxyName=NAMES[0], MaxRecords=101)) == ("InvalidParameterValue", 400))
    check("p.paging.boto3.bad_marker", lambda: error_code(
        lambda: rds.describe_db_proxy_endpoints(MaxRecords=20, Marker="not-a-marker")) == ("InvalidParameterValue", 400))
    check("p.filters.boto3.proxy_filters", lambda: error_code(lambda: rds.describe_db_proxy_targets(
        DBProxyName=NAMES[0], Filters=[{"Name": "x", "Values": ["y"]}])) == ("InvalidParameterValue", 400))
sys.exit(1 if failed else 0)
