"""boto3 drives every RDS API operation sqlgate implements (suite_rds.sh).

Prints "PASS name" / "FAIL name: detail" per check. Needs SQLGATE_ENDPOINT
and PG_SECRET (the pg cluster's login secret); credentials and region come
from the environment as run.sh sets them.
"""
import os
import random
import socket
import time

import boto3
import botocore.exceptions

rds = boto3.client("rds", endpoint_url=os.environ["SQLGATE_ENDPOINT"])
NAME = "e2e-boto3-%d" % random.randint(0, 99999)
SECRET = os.environ["PG_SECRET"]
ARN = "arn:aws:rds:us-east-1:000000000000:cluster:pg"


def check(name, fn):
    try:
        ok = fn()
    except Exception as e:  # the check failed with an unexpected error
        print("FAIL %s: %r" % (name, e))
        return None
    if ok:
        print("PASS " + name)
    else:
        print("FAIL %s: condition false" % name)
    return ok


def error_code(fn):
    try:
        fn()
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]
    return None, 200


def serves(endpoint):
    host, port = endpoint.rsplit(":", 1)
    for _ in range(50):
        try:
            socket.create_connection((host, int(port)), timeout=2).close()
            return True
        except OSError:
            time.sleep(0.2)
    return False


check("p.boto3.describe_db_clusters",
      lambda: any(c["DBClusterArn"] == ARN for c in rds.describe_db_clusters()["DBClusters"]))
check("p.boto3.disable_http_endpoint",
      lambda: rds.disable_http_endpoint(ResourceArn=ARN)["HttpEndpointEnabled"] is False)
check("p.boto3.enable_http_endpoint",
      lambda: rds.enable_http_endpoint(ResourceArn=ARN)["HttpEndpointEnabled"] is True)
check("p.boto3.create_db_proxy", lambda: rds.create_db_proxy(
    DBProxyName=NAME, EngineFamily="POSTGRESQL", RoleArn="arn:aws:iam::000000000000:role/p",
    VpcSubnetIds=["subnet-1"], RequireTLS=False, IdleClientTimeout=600,
    Auth=[{"AuthScheme": "SECRETS", "SecretArn": SECRET, "IAMAuth": "DISABLED",
           "ClientPasswordAuthType": "POSTGRES_SCRAM_SHA_256"}],
    Tags=[{"Key": "owner", "Value": "boto3"}])["DBProxy"]["DBProxyName"] == NAME)
check("p.boto3.create_db_proxy.duplicate", lambda: error_code(lambda: rds.create_db_proxy(
    DBProxyName=NAME, EngineFamily="POSTGRESQL", RoleArn="arn:aws:iam::000000000000:role/p", VpcSubnetIds=["s"],
    Auth=[{"SecretArn": SECRET}])) == ("DBProxyAlreadyExistsFault", 400))
check("p.boto3.register_db_proxy_targets", lambda: rds.register_db_proxy_targets(
    DBProxyName=NAME, DBClusterIdentifiers=["pg"])["DBProxyTargets"][0]["TrackedClusterId"] == "pg")
proxy = rds.describe_db_proxies(DBProxyName=NAME)["DBProxies"][0]
check("p.boto3.describe_db_proxies", lambda: proxy["IdleClientTimeout"] == 600 and serves(proxy["Endpoint"]))
targets = rds.describe_db_proxy_targets(DBProxyName=NAME)["Targets"]
check("p.boto3.describe_db_proxy_targets", lambda: targets[1]["TargetHealth"]["State"] == "AVAILABLE" or print(targets))
check("p.boto3.describe_db_proxy_target_groups", lambda: rds.describe_db_proxy_target_groups(
    DBProxyName=NAME)["TargetGroups"][0]["TargetGroupName"] == "default")
check("p.boto3.modify_db_proxy_target_group", lambda: rds.modify_db_proxy_target_group(
    DBProxyName=NAME, TargetGroupName="default",
    ConnectionPoolConfig={"MaxConnectionsPercent": 40, "ConnectionBorrowTimeout": 15,
                          "InitQuery": "SET lock_timeout = '5s'"},
)["DBProxyTargetGroup"]["ConnectionPoolConfig"]["MaxConnectionsPercent"] == 40)
check("p.boto3.modify_db_proxy", lambda: rds.modify_db_proxy(
    DBProxyName=NAME, NewDBProxyName=NAME + "-r", DebugLogging=True)["DBProxy"]["DBProxyName"] == NAME + "-r")
NAME += "-r"
ep = None


def create_endpoint():
    global ep
    ep = rds.create_db_proxy_endpoint(DBProxyName=NAME, DBProxyEndpointName=NAME + "-ep",
                                      VpcSubnetIds=["subnet-1"], TargetRole="READ_WRITE")["DBProxyEndpoint"]
    return serves(ep["Endpoint"])


check("p.boto3.create_db_proxy_endpoint", create_endpoint)
check("p.boto3.describe_db_proxy_endpoints", lambda: [e["DBProxyEndpointName"] for e in rds.describe_db_proxy_endpoints(
    DBProxyEndpointName=NAME + "-ep")["DBProxyEndpoints"]] == [NAME + "-ep"])
check("p.boto3.delete_db_proxy_endpoint", lambda: rds.delete_db_proxy_endpoint(
    DBProxyEndpointName=NAME + "-ep")["DBProxyEndpoint"]["Status"] == "deleting")
parn = proxy["DBProxyArn"]
check("p.boto3.add_tags_to_resource", lambda: rds.add_tags_to_resource(
    ResourceName=parn, Tags=[{"Key": "env", "Value": "e2e"}]) is not None)
check("p.boto3.remove_tags_from_resource", lambda: rds.remove_tags_from_resource(
    ResourceName=parn, TagKeys=["owner"]) is not None)
check("p.boto3.list_tags_for_resource", lambda: rds.list_tags_for_resource(
    ResourceName=parn)["TagList"] == [{"Key": "env", "Value": "e2e"}])
check("p.boto3.deregister_db_proxy_targets", lambda: rds.deregister_db_proxy_targets(
    DBProxyName=NAME, DBClusterIdentifiers=["pg"]) is not None)
check("p.boto3.describe_db_proxy_targets.empty", lambda: rds.describe_db_proxy_targets(
    DBProxyName=NAME)["Targets"] == [])
check("p.boto3.delete_db_proxy", lambda: rds.delete_db_proxy(DBProxyName=NAME)["DBProxy"]["Status"] == "deleting")
check("p.boto3.describe_db_proxies.gone", lambda: error_code(
    lambda: rds.describe_db_proxies(DBProxyName=NAME)) == ("DBProxyNotFoundFault", 404))
