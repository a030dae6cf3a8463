"""Lambda authorizers end to end: REST TOKEN and REQUEST authorizers, HTTP API authorizers with
payload 2.0 (simple and IAM-policy responses) and 1.0, default and per-route authorizers, the
identity-source check, result caching and the policy evaluated against each method ARN.

Sources: API Gateway developer guide — "Input to an API Gateway Lambda authorizer" (the TOKEN and
REQUEST events; identity sources missing → 401 without calling the function), "Output from an
API Gateway Lambda authorizer" (policy, principalId, context), "Working with AWS Lambda authorizers
for HTTP APIs" (payload 2.0, simple responses, 403 ``{"message":"Forbidden"}``); the wire samples
``example-apigw-custom-auth-request*.json`` and ``powertools/apiGatewayAuthorizerV2Event.json``.
REST's 403 bodies: ``{"Message":"User is not authorized to access this resource"}`` and ``… with
an explicit deny``; a function that throws ``Unauthorized`` gives 401 ``{"message":"Unauthorized"}``.

App: ``apps/gateway_auth``; every authorizer call is appended to a file (``CallsFile`` parameter),
so calls can be counted. Tokens carry a unique suffix, so cached answers never leak across tests.
"""

from __future__ import annotations

import json
import uuid

import pytest

from gateway_support import ACCOUNT, REGION, GatewayServer, copy_app, wire_event

UNAUTHORIZED = {"message": "Unauthorized"}
FORBIDDEN_HTTP = {"message": "Forbidden"}
FORBIDDEN_REST = {"Message": "User is not authorized to access this resource"}
DENIED_REST = {"Message": "User is not authorized to access this resource with an explicit deny"}


@pytest.fixture(scope="module")
def calls_file(tmp_path_factory):
    return tmp_path_factory.mktemp("gateway-auth-calls") / "calls.jsonl"


@pytest.fixture(scope="module")
def server(tmp_path_factory, calls_file):
    app = copy_app("gateway_auth", tmp_path_factory.mktemp("gateway-auth") / "app")
    srv = GatewayServer(app, ["--parameter-overrides", f"CallsFile={calls_file}"])
    try:
        srv.start()
    except RuntimeError as e:
        pytest.fail(str(e), pytrace=False)
    try:
        yield srv
    finally:
        srv.stop()


def unique(behaviour: str) -> str:
    return f"{behaviour}-{uuid.uuid4().hex[:12]}"


def calls(calls_file, needle: str | None = None) -> list[dict]:
    """The recorded authorizer calls (those whose event mentions ``needle``)."""
    if not calls_file.exists():
        return []
    out = []
    for line in calls_file.read_text().splitlines():
        if line.strip() and (needle is None or needle in line):
            out.append(json.loads(line))
    return out


def authorizer_context(reply) -> dict | None:
    assert reply.status == 200, reply
    assert reply.header("X-Echo-Function") == "EchoFunction", reply
    return reply.json()["requestContext"].get("authorizer")


def method_arn(api_id: str, stage: str, method: str, path: str) -> str:
    return f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{api_id}/{stage}/{method}/{path.lstrip('/')}"


# -- REST TOKEN ------------------------------------------------------------------------------------

def test_token_authorizer_allows_and_the_context_reaches_the_handler(server, calls_file):
    token = f"Bearer {unique('allow')}"
    reply = server.get("/Prod/token/items", headers=[("Authorization", token)])
    context = authorizer_context(reply)
    assert context is not None, "requestContext.authorizer is missing"
    assert context["principalId"] == "user-allow"
    assert context["tenant"] == "t1"
    assert str(context["count"]) == "2" and str(context["flag"]).lower() == "true"
    [call] = calls(calls_file, token)
    api_id = reply.json()["requestContext"]["apiId"]
    sample = wire_event("aws_lambda_events/example-apigw-custom-auth-request.json")
    assert set(call["event"]) == set(sample)
    assert call["event"] == {
        "type": "TOKEN",
        "authorizationToken": token,
        "methodArn": method_arn(api_id, "Prod", "GET", "/token/items"),
    }


@pytest.mark.parametrize(
    "headers",
    [[], [("Authorization", "")], [("Authorization", "Bearer NOT-VALID")], [("Authorization", "Basic allow-abc")],
     [("X-Other", f"Bearer {unique('allow')}")]],
    ids=["no-header", "empty", "fails-validation-expression", "other-scheme", "other-header"],
)
def test_token_authorizer_401_without_calling_the_function(server, calls_file, headers):
    before = len(calls(calls_file))
    reply = server.get("/Prod/token/items", headers=headers)
    assert reply.status == 401, reply
    assert reply.json() == UNAUTHORIZED
    assert len(calls(calls_file)) == before, "the authorizer must not run"


def test_token_answers_are_cached_for_reauthorize_every(server, calls_file):
    token = f"Bearer {unique('wild')}"  # allows GET on every path of the API
    for path in ("/Prod/token/items", "/Prod/token/items/1", "/Prod/token/items", "/token/items/2"):
        reply = server.get(path, headers=[("Authorization", token)])
        assert reply.status == 200, f"{path}: {reply}"
    assert len(calls(calls_file, token)) == 1, "ReauthorizeEvery: 300 caches the answer per token"
    other = f"Bearer {unique('wild')}"
    assert server.get("/Prod/token/items", headers=[("Authorization", other)]).status == 200
    assert len(calls(calls_file, other)) == 1, "another token is authorized anew"


def test_cached_policy_is_evaluated_for_each_method(server, calls_file):
    token = f"Bearer {unique('allow')}"  # allows exactly the first request's method ARN
    assert server.get("/Prod/token/items", headers=[("Authorization", token)]).status == 200
    reply = server.request("POST", "/Prod/token/items", headers=[("Authorization", token)], body=b"{}")
    assert reply.status == 403, reply
    assert reply.json() == FORBIDDEN_REST
    assert len(calls(calls_file, token)) == 1, "the cached policy is reused, not the authorizer"


def test_policy_for_another_method_is_403(server):
    reply = server.get("/Prod/token/items", headers=[("Authorization", f"Bearer {unique('other')}")])
    assert reply.status == 403, reply
    assert reply.json() == FORBIDDEN_REST


def test_explicit_deny_is_403(server):
    reply = server.get("/Prod/token/items", headers=[("Authorization", f"Bearer {unique('deny')}")])
    assert reply.status == 403, reply
    assert reply.json() == DENIED_REST


def test_wildcard_policy_allows_matching_methods(server):
    reply = server.get("/Prod/token/items/42", headers=[("Authorization", f"Bearer {unique('wild')}")])
    assert authorizer_context(reply)["principalId"] == "user-wild"


def test_authorizer_throwing_unauthorized_is_401(server):
    reply = server.get("/Prod/token/items", headers=[("Authorization", f"Bearer {unique('unauthorized')}")])
    assert reply.status == 401, reply
    assert reply.json() == UNAUTHORIZED


@pytest.mark.parametrize("behaviour", ["boom", "garbage"], ids=["crash", "invalid-answer"])
def test_authorizer_failure_is_500(server, behaviour):
    reply = server.get("/Prod/token/items", headers=[("Authorization", f"Bearer {unique(behaviour)}")])
    assert reply.status == 500, reply
    assert reply.header("x-amzn-ErrorType") == "AuthorizerConfigurationException", reply
    assert reply.header("X-Echo-Function") is None


def test_authorizer_none_opts_a_route_out_of_the_default(server, calls_file):
    before = len(calls(calls_file))
    reply = server.get("/Prod/public")
    assert authorizer_context(reply) is None
    assert len(calls(calls_file)) == before


# -- REST REQUEST ----------------------------------------------------------------------------------

def test_request_authorizer_gets_the_request_and_allows(server, calls_file):
    user = unique("alice")
    reply = server.get("/Prod/request/items?tenant=acme&x=1", headers=[("X-User", user)])
    context = authorizer_context(reply)
    assert context["principalId"] == f"user-{user}"
    assert context["user"] == user and context["tenant"] == "acme"
    [call] = calls(calls_file, user)
    event = call["event"]
    sample = wire_event("aws_lambda_events/example-apigw-custom-auth-request-type-request.json")
    assert set(sample) <= set(event), f"missing {set(sample) - set(event)}"
    api_id = reply.json()["requestContext"]["apiId"]
    assert event["type"] == "REQUEST"
    assert event["methodArn"] == method_arn(api_id, "Prod", "GET", "/request/items")
    assert event["resource"] == "/request/items"
    assert event["path"] == "/request/items"
    assert event["httpMethod"] == "GET"
    assert event["headers"]["X-User"] == user
    assert event["queryStringParameters"] == {"tenant": "acme", "x": "1"}
    assert event["requestContext"]["stage"] == "Prod"


@pytest.mark.parametrize(
    "path, headers",
    [
        ("/Prod/request/items?tenant=acme", []),
        ("/Prod/request/items", [("X-User", "alice-1")]),
        ("/Prod/request/items?tenant=", [("X-User", "alice-1")]),
        ("/Prod/request/items?tenant=acme", [("X-User", "")]),
    ],
    ids=["no-header", "no-query", "empty-query", "empty-header"],
)
def test_request_authorizer_missing_identity_is_401_without_calling(server, calls_file, path, headers):
    before = len(calls(calls_file))
    reply = server.get(path, headers=headers)
    assert reply.status == 401, reply
    assert reply.json() == UNAUTHORIZED
    assert len(calls(calls_file)) == before


def test_request_authorizer_deny_is_403(server):
    reply = server.get("/Prod/request/items?tenant=acme", headers=[("X-User", unique("bob"))])
    assert reply.status == 403, reply
    assert reply.json() == DENIED_REST


def test_request_authorizer_caches_per_identity_sources(server, calls_file):
    user = unique("alice")
    for _ in range(3):
        assert server.get("/Prod/request/items?tenant=acme", headers=[("X-User", user)]).status == 200
    assert len(calls(calls_file, user)) == 1
    assert server.get("/Prod/request/items?tenant=other", headers=[("X-User", user)]).status == 200
    assert len(calls(calls_file, user)) == 2, "another query value is another cache key"


# -- HTTP API ----------------------------------------------------------------------------------------

def test_http_simple_response_allows_with_lambda_context(server, calls_file):
    token = unique("allow")
    reply = server.get("/h/simple?q=1", headers=[("Authorization", token)])
    assert authorizer_context(reply) == {"lambda": {"user": "u1", "n": 5, "token": token}}
    [call] = calls(calls_file, token)
    event = call["event"]
    sample = wire_event("powertools/apiGatewayAuthorizerV2Event.json")
    optional = {"cookies", "pathParameters", "stageVariables"}  # only when the request has them
    assert set(sample) - optional <= set(event), f"missing {set(sample) - optional - set(event)}"
    api_id = reply.json()["requestContext"]["apiId"]
    assert event["version"] == "2.0"
    assert event["type"] == "REQUEST"
    assert event["routeArn"] == method_arn(api_id, "$default", "GET", "/h/simple")
    assert event["identitySource"] == [token]
    assert event["routeKey"] == "GET /h/simple"
    assert event["rawPath"] == "/h/simple"
    assert event["rawQueryString"] == "q=1"
    assert event["headers"]["authorization"] == token
    assert event["requestContext"]["http"]["method"] == "GET"


def test_http_simple_response_denies_with_403(server):
    reply = server.get("/h/simple", headers=[("Authorization", unique("deny"))])
    assert reply.status == 403, reply
    assert reply.json() == FORBIDDEN_HTTP


@pytest.mark.parametrize("path", ["/h/simple", "/h/policy", "/h/v1"])
def test_http_missing_identity_source_is_401_without_calling(server, calls_file, path):
    before = len(calls(calls_file))
    reply = server.get(path)
    assert reply.status == 401, reply
    assert reply.json() == UNAUTHORIZED
    assert len(calls(calls_file)) == before


def test_http_authorizer_throwing_unauthorized_is_401(server):
    reply = server.get("/h/simple", headers=[("Authorization", unique("unauthorized"))])
    assert reply.status == 401, reply
    assert reply.json() == UNAUTHORIZED


def test_http_authorizer_crash_is_500(server):
    reply = server.get("/h/simple", headers=[("Authorization", unique("boom"))])
    assert reply.status == 500, reply
    assert reply.json() == {"message": "Internal Server Error"}


def test_http_answers_are_cached(server, calls_file):
    token = unique("allow")
    for _ in range(3):
        assert server.get("/h/simple", headers=[("Authorization", token)]).status == 200
    assert len(calls(calls_file, token)) == 1


def test_http_policy_response_allows(server):
    token = unique("allow")
    context = authorizer_context(server.get("/h/policy", headers=[("Authorization", token)]))
    assert context["lambda"]["tenant"] == "t1"
    assert context["lambda"]["token"] == token


@pytest.mark.parametrize("behaviour", ["deny", "other"])
def test_http_policy_response_forbids(server, behaviour):
    reply = server.get("/h/policy", headers=[("Authorization", unique(behaviour))])
    assert reply.status == 403, reply
    assert reply.json() == FORBIDDEN_HTTP


def test_http_payload_1_0_authorizer(server, calls_file):
    token = unique("allow")
    reply = server.get("/h/v1", headers=[("Authorization", token)])
    assert reply.status == 200, reply
    [call] = calls(calls_file, token)
    event = call["event"]
    api_id = reply.json()["requestContext"]["apiId"]
    assert event["type"] == "REQUEST"
    assert event["methodArn"] == method_arn(api_id, "$default", "GET", "/h/v1")
    assert event["identitySource"] == token
    assert event["headers"]["authorization" if "authorization" in event["headers"] else "Authorization"] == token
    denied = server.get("/h/v1", headers=[("Authorization", unique("deny"))])
    assert denied.status == 403, denied
    assert denied.json() == FORBIDDEN_HTTP


def test_http_authorizer_none(server, calls_file):
    before = len(calls(calls_file))
    reply = server.get("/h/public")
    assert reply.status == 200, reply
    assert "authorizer" not in reply.json()["requestContext"]
    assert len(calls(calls_file)) == before
