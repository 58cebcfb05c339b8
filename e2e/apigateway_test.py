"""boto3 against sqlgate's API Gateway API: every API key and usage plan
operation, the seed 003 request with the key it creates, the rate limit
and get-usage.

Environment: SQLGATE_ENDPOINT, AWS credentials (sqlgate root), RUN_ID.
Prints PASS/FAIL lines; exits non-zero on any failure."""

import datetime
import json
import os
import urllib.error
import urllib.request

import boto3

import checks
from checks import check
from checks import code_status_of as code_of

checks.prefix = "g.boto3."
ENDPOINT = os.environ["SQLGATE_ENDPOINT"]
gw = boto3.client("apigateway", endpoint_url=ENDPOINT, region_name="us-east-1")
BODY = b'{"key1":"value1", "key2":"value2", "key3":"value3", "key4":"value4", "key5":"value5", "key6":"value6",  "key7":"value7"} '


def seed003(key):
    req = urllib.request.Request(ENDPOINT + "/v1/items", data=BODY, method="POST",
                                 headers={"x-api-key": key, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


value = "boto3-seed003-key-" + os.environ.get("RUN_ID", "x").replace("-", "")[:20].ljust(20, "0")
k = gw.create_api_key(name="boto3-client", value=value, enabled=True, description="from boto3",
                      customerId="cust-1", tags={"team": "shop"})
check("create_api_key", k["value"] == value and k["enabled"] and k["customerId"] == "cust-1"
      and k["tags"] == {"team": "shop"} and isinstance(k["createdDate"], datetime.datetime), k)
check("seed003_no_plan", seed003(value) == 201)
p = gw.create_usage_plan(name="boto3-plan", description="d", throttle={"rateLimit": 0.001, "burstLimit": 1},
                         quota={"limit": 500, "period": "MONTH", "offset": 0},
                         apiStages=[{"apiId": "sqlgate", "stage": "seed003-add-item"}])
check("create_usage_plan", p["quota"] == {"limit": 500, "offset": 0, "period": "MONTH"}, p)
pk = gw.create_usage_plan_key(usagePlanId=p["id"], keyId=k["id"], keyType="API_KEY")
check("create_usage_plan_key", pk["id"] == k["id"] and pk["name"] == "boto3-client", pk)
check("seed003_under_plan", seed003(value) == 201)
check("seed003_rate_limited", seed003(value) == 429)
today = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
u = gw.get_usage(usagePlanId=p["id"], startDate=today, endDate=today)
# Two calls today (one before the plan): the month's quota counts both.
check("get_usage", u["items"] == {k["id"]: [[2, 498]]}, u)
got = gw.get_api_key(apiKey=k["id"], includeValue=True)
check("get_api_key", got["value"] == value and got["description"] == "from boto3", got)
keys = gw.get_api_keys(nameQuery="boto3", includeValues=True)["items"]
check("get_api_keys", [x["value"] for x in keys] == [value], keys)
pages = list(gw.get_paginator("get_api_keys").paginate(PaginationConfig={"PageSize": 1}))
check("get_api_keys_paginated", any(x["id"] == k["id"] for pg in pages for x in pg["items"]) and len(pages) > 1, len(pages))
up = gw.update_api_key(apiKey=k["id"], patchOperations=[{"op": "replace", "path": "/name", "value": "boto3-renamed"},
                                                        {"op": "replace", "path": "/enabled", "value": "false"}])
check("update_api_key", up["name"] == "boto3-renamed" and not up["enabled"], up)
check("seed003_disabled", seed003(value) == 403)
gw.update_api_key(apiKey=k["id"], patchOperations=[{"op": "replace", "path": "/enabled", "value": "true"}])
plan = gw.update_usage_plan(usagePlanId=p["id"], patchOperations=[
    {"op": "replace", "path": "/throttle/rateLimit", "value": "1000"},
    {"op": "replace", "path": "/throttle/burstLimit", "value": "1000"},
    {"op": "replace", "path": "/quota/limit", "value": "2"}])
check("update_usage_plan", plan["throttle"] == {"burstLimit": 1000, "rateLimit": 1000.0} and plan["quota"]["limit"] == 2, plan)
check("seed003_quota_used_up", seed003(value) == 429)
plans = gw.get_usage_plans(keyId=k["id"])["items"]
check("get_usage_plans", [x["id"] for x in plans] == [p["id"]], plans)
check("get_usage_plan", gw.get_usage_plan(usagePlanId=p["id"])["name"] == "boto3-plan")
check("get_usage_plan_keys", [x["id"] for x in gw.get_usage_plan_keys(usagePlanId=p["id"])["items"]] == [k["id"]])
check("get_usage_plan_key", gw.get_usage_plan_key(usagePlanId=p["id"], keyId=k["id"])["type"] == "API_KEY")
check("error_not_found", code_of(gw.get_usage_plan, usagePlanId="nope") == ("NotFoundException", 404))
check("error_conflict", code_of(gw.create_usage_plan_key, usagePlanId=p["id"], keyId=k["id"], keyType="API_KEY")
      == ("ConflictException", 409))
check("error_bad_request", code_of(gw.create_api_key, name="short", value="short") == ("BadRequestException", 400))
gw.delete_usage_plan_key(usagePlanId=p["id"], keyId=k["id"])
check("seed003_plan_key_deleted", seed003(value) == 201)
gw.delete_usage_plan(usagePlanId=p["id"])
check("delete_usage_plan", code_of(gw.get_usage_plan, usagePlanId=p["id"]) == ("NotFoundException", 404))
gw.delete_api_key(apiKey=k["id"])
check("delete_api_key", code_of(gw.get_api_key, apiKey=k["id"]) == ("NotFoundException", 404))
check("seed003_key_deleted", seed003(value) == 403)
checks.exit()
