"""Wire-compatibility of Stratus's Lambda API (Invoke, GetFunction, GetFunctionConfiguration,
ListFunctions) against what AWS documents: name forms and qualifiers, invocation types, payloads,
error bodies and headers, and the FunctionConfiguration shape. Cases that test_lambda.py already
covers are not repeated here.

One server runs an app written here (an echo function, a function with many template properties,
a named layer, and enough functions to need more than one ListFunctions page); it is stopped by
PID whatever happens. Requests go through boto3 where it can express them and through raw,
SigV4-signed HTTP where the exact wire body matters.
"""

from __future__ import annotations

import base64
import http.client
import json
import re
import textwrap
import time
from pathlib import Path

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from lambda_support import ACCOUNT, LambdaServer, arn, invoke, lambda_client, request_id, wait_until
from support import REGION

pytestmark = pytest.mark.stratus_only

PAD_FUNCTIONS = 55  # with the others, more than the 50 that one ListFunctions page may hold
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

HANDLER = '''\
import json
import os


def echo(event, context):
    cc = context.client_context
    result = {
        "event": event,
        "request_id": context.aws_request_id,
        "invoked_arn": context.invoked_function_arn,
        "client_context_custom": None if cc is None else cc.custom,
    }
    path = event.get("record") if isinstance(event, dict) else None
    if path:
        partial = path + ".partial"
        with open(partial, "w") as f:
            f.write(json.dumps(result))
        os.replace(partial, path)
    return result
'''

TEMPLATE_HEAD = """\
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.11
    CodeUri: py/
    Timeout: 10
    MemorySize: 128
Resources:
  AuditLayer:
    Type: AWS::Serverless::LayerVersion
    Properties:
      LayerName: audit-shared
      ContentUri: layer/
  Echo:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.echo
  Described:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.echo
      Description: An audited function
      Tracing: Active
      EphemeralStorage:
        Size: 1024
      Architectures:
        - arm64
      LoggingConfig:
        LogFormat: JSON
      Layers:
        - !Ref AuditLayer
      Tags:
        team: audit
"""


def _template() -> str:
    pads = "".join(
        f"  Pad{i:02d}:\n    Type: AWS::Serverless::Function\n    Properties:\n      Handler: app.echo\n"
        for i in range(PAD_FUNCTIONS)
    )
    return TEMPLATE_HEAD + pads


# -- fixtures ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def app_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("lambda-audit") / "app"
    (root / "py").mkdir(parents=True)
    (root / "py" / "app.py").write_text(HANDLER)
    (root / "layer" / "python").mkdir(parents=True)
    (root / "layer" / "python" / "auditlib.py").write_text('VALUE = "layer"\n')
    (root / "template.yaml").write_text(_template())
    return root


@pytest.fixture(scope="module")
def server(app_dir):
    srv = LambdaServer(app_dir)
    try:
        srv.start()
    except RuntimeError as e:
        srv.stop()
        pytest.fail(str(e), pytrace=False)
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def lam(server):
    return lambda_client(server.endpoint)


def _error(fn, *args, **kwargs) -> ClientError:
    with pytest.raises(ClientError) as info:
        fn(*args, **kwargs)
    return info.value


def raw(server, method: str, path: str, body: bytes = b"", headers: dict | None = None):
    """One SigV4-signed request sent as written; returns (status, lower-cased headers, body)."""
    url = f"{server.endpoint}{path}"
    request = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
    SigV4Auth(Credentials("test", "test"), "lambda", REGION).add_auth(request)
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.request(method, path, body=body or None, headers=dict(request.headers.items()))
        response = conn.getresponse()
        data = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, data
    finally:
        conn.close()


INVOKE = "/2015-03-31/functions/{}/invocations"


# -- payloads --------------------------------------------------------------------------------

def test_invoke_without_payload_gives_the_function_an_empty_object(lam):
    # Invoke API (API_Invoke.html, Payload): with no payload the function receives "{}" (what the
    # console/CLI show; the runtimes' json.loads of an empty body would otherwise fail).
    r = invoke(lam, "Echo")
    assert r["StatusCode"] == 200
    assert r["payload"]["event"] == {}


@pytest.mark.parametrize("payload", ["42", '"text"', "[1, 2]", "null", "true"])
def test_any_json_value_is_a_valid_payload(lam, payload):
    # API_Invoke.html, Payload: "The JSON that you want to provide to your Lambda function as input"
    # (any JSON value; only non-JSON is InvalidRequestContentException).
    r = invoke(lam, "Echo", payload)
    assert "FunctionError" not in r, r["payload"]
    assert r["payload"]["event"] == json.loads(payload)


def test_invalid_json_is_refused_for_event_invocations_too(lam):
    # API_Invoke.html Errors: InvalidRequestContentException (400) "The request body could not be
    # parsed as JSON" applies to Invoke whatever the InvocationType.
    err = _error(lam.invoke, FunctionName="Echo", InvocationType="Event", Payload=b"{nope")
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert err.response["Error"]["Code"] == "InvalidRequestContentException"


# -- invocation types --------------------------------------------------------------------------

def test_dry_run_answers_204_with_an_empty_body_and_a_request_id(lam):
    # API_Invoke.html Response: "For the DryRun invocation type, the status code is 204."
    r = lam.invoke(FunctionName="Echo", InvocationType="DryRun", Payload=b"{}")
    assert r["StatusCode"] == 204
    assert r["Payload"].read() == b""
    assert UUID_RE.match(request_id(r))
    assert "FunctionError" not in r


def test_event_invocation_of_an_unknown_function_is_404(lam):
    # API_Invoke.html Errors: ResourceNotFoundException (404) "The resource specified in the
    # request does not exist" - checked before the event is queued.
    err = _error(lam.invoke, FunctionName="NoSuchFunction", InvocationType="Event", Payload=b"{}")
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert err.response["Error"]["Code"] == "ResourceNotFoundException"
    assert err.response["Error"]["Message"] == f"Function not found: {arn('NoSuchFunction')}"


def test_event_invocation_runs_the_function_and_answers_202_without_log(lam, tmp_path):
    # API_Invoke.html: Event -> 202; LogType "Applies to synchronously invoked functions only."
    record = tmp_path / "event.json"
    r = lam.invoke(FunctionName="Echo", InvocationType="Event", LogType="Tail",
                   Payload=json.dumps({"record": str(record)}))
    assert r["StatusCode"] == 202
    assert r["Payload"].read() == b""
    assert "LogResult" not in r
    rid = request_id(r)
    assert UUID_RE.match(rid)
    ran = json.loads(wait_until(lambda: record.exists() and record.read_text(), 10, message="the event"))
    assert ran["request_id"] == rid


def test_client_context_is_not_passed_to_event_invocations(lam, tmp_path):
    # API_Invoke.html, ClientContext: "Lambda passes the ClientContext object to your function for
    # synchronous invocations only."
    record = tmp_path / "event.json"
    encoded = base64.b64encode(json.dumps({"custom": {"k": "v"}}).encode()).decode()
    r = lam.invoke(FunctionName="Echo", InvocationType="Event", ClientContext=encoded,
                   Payload=json.dumps({"record": str(record)}))
    assert r["StatusCode"] == 202
    ran = json.loads(wait_until(lambda: record.exists() and record.read_text(), 10, message="the event"))
    assert ran["client_context_custom"] is None


def test_legacy_invoke_async_answers_202_status(lam, tmp_path):
    # API_InvokeAsync.html: response "HTTP/1.1 Status" 202 with body {"Status": 202}.
    record = tmp_path / "legacy.json"
    r = lam.invoke_async(FunctionName="Echo", InvokeArgs=json.dumps({"record": str(record)}))
    assert r["Status"] == 202
    wait_until(lambda: record.exists(), 10, message="the legacy event")


# -- function names and qualifiers ------------------------------------------------------------

NAME_FORMS = [
    "Echo:$LATEST",
    f"{ACCOUNT}:function:Echo",
    f"{ACCOUNT}:function:Echo:$LATEST",
    arn("Echo", "$LATEST"),
    # The model's NamespacedFunctionName pattern also allows these forms.
    f"{REGION}:{ACCOUNT}:function:Echo",
    "function:Echo",
]


@pytest.mark.parametrize("name", NAME_FORMS)
def test_every_documented_name_form_invokes_latest(lam, name):
    # API_Invoke.html, FunctionName: name, name:qualifier, full ARN, partial ARN; "You can append a
    # version number or alias to any of the formats."
    r = invoke(lam, name, {})
    assert r["StatusCode"] == 200
    assert r["ExecutedVersion"] == "$LATEST"
    assert "FunctionError" not in r


@pytest.mark.parametrize("name", NAME_FORMS)
def test_invoked_function_arn_keeps_a_qualifier_given_in_the_name(lam, name):
    # Context object (python-context.html / nodejs-context.html): invoked_function_arn "The Amazon
    # Resource Name (ARN) that's used to invoke the function. Indicates if the invoker specified a
    # version number or alias." A qualifier in FunctionName is the same as the Qualifier parameter.
    r = invoke(lam, name, {})
    expected = arn("Echo", "$LATEST") if name.endswith("$LATEST") else arn("Echo")
    assert r["payload"]["invoked_arn"] == expected


def test_function_names_are_case_sensitive(lam):
    # Function names are case-sensitive identifiers (API_CreateFunction.html FunctionName; a
    # different case is a different, here unknown, function).
    err = _error(lam.invoke, FunctionName="echo", Payload=b"{}")
    assert err.response["Error"]["Code"] == "ResourceNotFoundException"
    assert err.response["Error"]["Message"] == f"Function not found: {arn('echo')}"


def test_qualifier_in_the_name_and_a_different_qualifier_parameter_conflict(lam):
    # AWS answers InvalidParameterValueException "The derived qualifier from the function name does
    # not match the specified qualifier." (EventBridge Scheduler user guide, "Mismatching
    # qualifiers", docs.aws.amazon.com/scheduler/latest/UserGuide; same check in every SDK-facing
    # Lambda emulator that records AWS).
    err = _error(lam.invoke, FunctionName="Echo:live", Qualifier="$LATEST", Payload=b"{}")
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert err.response["Error"]["Code"] == "InvalidParameterValueException"
    assert err.response["Error"]["Message"] == (
        "The derived qualifier from the function name does not match the specified qualifier.")


def test_an_arn_of_another_region_is_not_reachable(lam):
    # Observed AWS answer (404 ResourceNotFoundException): "Functions from 'eu-west-1' are not
    # reachable in this region ('us-east-1')" (e.g. github.com/alexcasalboni/aws-lambda-power-tuning
    # issues/18, github.com/Fraudmarc/fraudmarc-ce issues/21 with "status code: 404").
    for other in (f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:Echo", f"eu-west-1:{ACCOUNT}:function:Echo"):
        err = _error(lam.invoke, FunctionName=other, Payload=b"{}")
        assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 404
        assert err.response["Error"]["Code"] == "ResourceNotFoundException"
        assert err.response["Error"]["Message"] == (
            "Functions from 'eu-west-1' are not reachable in this region ('us-east-1')")


def test_an_arn_of_another_account_is_access_denied(lam):
    # A function in account 111111111111 is not this account's Echo, and invoking another
    # account's function needs a resource-based policy there
    # (docs.aws.amazon.com/lambda/latest/dg/permissions-function-cross-account.html), which
    # nothing grants locally: AccessDeniedException, worded as IAM words a missing
    # resource-based policy, for the administrator too.
    other = "arn:aws:lambda:us-east-1:111111111111:function:Echo"
    err = _error(lam.invoke, FunctionName=other, Payload=b"{}")
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert err.response["Error"]["Code"] == "AccessDeniedException"
    assert err.response["Error"]["Message"] == (
        "User: arn:aws:iam::000000000000:root is not authorized to perform: lambda:InvokeFunction"
        f" on resource: {other} because no resource-based policy allows the lambda:InvokeFunction action")
    err = _error(lam.get_function, FunctionName=other)
    assert err.response["Error"]["Code"] == "AccessDeniedException"


@pytest.mark.parametrize("name", ["bad name!", "Echo,2"])
def test_a_function_name_outside_the_pattern_is_a_validation_exception(server, name):
    # Service model NamespacedFunctionName pattern; AWS answers 400 ValidationException "1
    # validation error detected: Value '...' at 'functionName' failed to satisfy constraint: Member
    # must satisfy regular expression pattern: ..." (seen from Invoke via Step Functions, "Service:
    # AWSLambda; Status Code: 400; Error Code: ValidationException").
    from urllib.parse import quote
    status, headers, body = raw(server, "POST", INVOKE.format(quote(name, safe="")), b"{}")
    assert status == 400, (status, body)
    assert headers.get("x-amzn-errortype", "").split(":")[0] == "ValidationException", headers
    message = json.loads(body).get("message", "")
    assert message.startswith(f"1 validation error detected: Value '{name}' at 'functionName' "
                              "failed to satisfy constraint: Member must satisfy regular expression pattern")


def test_a_qualifier_outside_the_pattern_is_a_validation_exception(server):
    # Service model Qualifier: pattern (|[a-zA-Z0-9$_-]+); a constraint violation is a 400
    # ValidationException (AWS's generic model validation). Confidence: medium.
    status, headers, body = raw(server, "POST", INVOKE.format("Echo") + "?Qualifier=bad%21", b"{}")
    assert status == 400, (status, body)
    assert headers.get("x-amzn-errortype", "").split(":")[0] == "ValidationException", headers


# -- error bodies and headers --------------------------------------------------------------------

def test_resource_not_found_body_uses_awss_member_names(server):
    # Service model: ResourceNotFoundException members are "Type" and "Message" (capital M; AWS's
    # recorded body is {"Type": "User", "Message": "Function not found: ..."}), 404, with the
    # x-amzn-ErrorType header.
    status, headers, body = raw(server, "POST", INVOKE.format("NoSuchFunction"), b"{}")
    assert status == 404
    assert headers["x-amzn-errortype"].split(":")[0] == "ResourceNotFoundException"
    assert headers["content-type"].startswith("application/json")
    assert UUID_RE.match(headers.get("x-amzn-requestid", ""))
    document = json.loads(body)
    assert document.get("Type") == "User"
    assert document.get("Message") == f"Function not found: {arn('NoSuchFunction')}", document


def test_invalid_request_content_body_uses_lowercase_message(server):
    # Service model: InvalidRequestContentException members are "Type" and "message", 400.
    status, headers, body = raw(server, "POST", INVOKE.format("Echo"), b"{not json")
    assert status == 400
    assert headers["x-amzn-errortype"].split(":")[0] == "InvalidRequestContentException"
    document = json.loads(body)
    assert document["Type"] == "User"
    assert document["message"].startswith("Could not parse request body into json")


def test_sync_invoke_response_headers(server):
    # API_Invoke.html Response Syntax: 200 with X-Amz-Executed-Version, the payload as the body;
    # every response carries x-amzn-RequestId.
    status, headers, body = raw(server, "POST", INVOKE.format("Echo"), b'{"a": 1}')
    assert status == 200
    assert headers["x-amz-executed-version"] == "$LATEST"
    assert "x-amz-function-error" not in headers
    assert "x-amz-log-result" not in headers
    assert json.loads(body)["request_id"] == headers["x-amzn-requestid"]


# -- GetFunction / GetFunctionConfiguration ------------------------------------------------------

@pytest.mark.parametrize("name,qualifier", [
    (arn("Echo"), None),
    (f"{ACCOUNT}:function:Echo", None),
    ("Echo:$LATEST", None),
    ("Echo", "$LATEST"),
])
def test_get_function_accepts_every_name_form(lam, name, qualifier):
    # API_GetFunction.html, FunctionName: name, name:version, full ARN, partial ARN; Qualifier.
    kwargs = {"FunctionName": name}
    if qualifier:
        kwargs["Qualifier"] = qualifier
    config = lam.get_function(**kwargs)["Configuration"]
    assert config["FunctionName"] == "Echo"
    assert config["Version"] == "$LATEST"


def test_get_function_with_conflicting_qualifiers_is_invalid(lam):
    # Same rule as Invoke: "The derived qualifier from the function name does not match the
    # specified qualifier." (InvalidParameterValueException, 400; API_GetFunction.html Errors).
    err = _error(lam.get_function, FunctionName="Echo:live", Qualifier="$LATEST")
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert err.response["Error"]["Code"] == "InvalidParameterValueException"


def test_get_function_of_an_unknown_qualifier_is_404(lam):
    # API_GetFunction.html Errors: ResourceNotFoundException (404); the message names the
    # qualified ARN, as Invoke's does.
    err = _error(lam.get_function, FunctionName="Echo", Qualifier="prod")
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert err.response["Error"]["Code"] == "ResourceNotFoundException"
    assert err.response["Error"]["Message"] == f"Function not found: {arn('Echo', 'prod')}"


def test_get_function_configuration_of_an_unknown_function_is_404(lam):
    # API_GetFunctionConfiguration.html Errors: ResourceNotFoundException (404).
    err = _error(lam.get_function_configuration, FunctionName=arn("NoSuchFunction"))
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert err.response["Error"]["Code"] == "ResourceNotFoundException"
    assert err.response["Error"]["Message"] == f"Function not found: {arn('NoSuchFunction')}"


def test_get_function_configuration_matches_get_function(lam):
    # API_GetFunctionConfiguration.html returns the same FunctionConfiguration as GetFunction's
    # Configuration.
    a = lam.get_function(FunctionName="Echo")["Configuration"]
    b = lam.get_function_configuration(FunctionName="Echo")
    b.pop("ResponseMetadata")
    assert a == b


def test_configuration_field_formats(lam):
    # API_FunctionConfiguration.html: LastModified "ISO-8601 format (YYYY-MM-DDThh:mm:ss.sTZD)",
    # Role an IAM role ARN, RevisionId, PackageType Zip, Architectures default [x86_64],
    # EphemeralStorage default 512, LoggingConfig default Text and /aws/lambda/NAME.
    config = lam.get_function(FunctionName="Echo")["Configuration"]
    assert re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000$", config["LastModified"])
    assert re.match(rf"^arn:aws:iam::{ACCOUNT}:role/[\w+=,.@/-]+$", config["Role"]), config["Role"]
    assert UUID_RE.match(config["RevisionId"])
    assert config["PackageType"] == "Zip"
    assert config["Architectures"] == ["x86_64"]
    assert config["EphemeralStorage"] == {"Size": 512}
    assert config["LoggingConfig"]["LogGroup"] == "/aws/lambda/Echo"
    assert config["Runtime"] == "python3.11"
    assert config["Handler"] == "app.echo"
    assert config["MemorySize"] == 128
    assert config["Timeout"] == 10


@pytest.mark.parametrize("field,expected", [
    ("Description", "An audited function"),
    ("TracingConfig", {"Mode": "Active"}),
    ("EphemeralStorage", {"Size": 1024}),
    ("Architectures", ["arm64"]),
])
def test_template_properties_appear_in_the_configuration(lam, field, expected):
    # AWS::Serverless::Function properties map to the function's configuration
    # (docs.aws.amazon.com/serverless-application-model sam-resource-function.html: Description,
    # Tracing -> TracingConfig, EphemeralStorage, Architectures), which GetFunction returns.
    config = lam.get_function(FunctionName="Described")["Configuration"]
    assert config.get(field) == expected, config.get(field)


def test_get_function_tags_include_the_template_tags_and_sams_own(lam):
    # API_GetFunction.html Tags: "The function's tags"; sam-resource-function.html Tags: "AWS SAM
    # automatically adds a lambda:createdBy:SAM tag to this Lambda function". Medium confidence that
    # an emulator is expected to mirror the SAM tag; the template tag is plain configuration.
    tags = lam.get_function(FunctionName="Described").get("Tags", {})
    assert tags.get("team") == "audit", tags
    assert tags.get("lambda:createdBy") == "SAM", tags


def test_layer_arn_uses_the_layer_name(lam):
    # API_Layer.html: Arn "The Amazon Resource Name (ARN) of the function layer",
    # arn:aws:lambda:REGION:ACCOUNT:layer:LAYER_NAME:VERSION, LayerName from the template's
    # AWS::Serverless::LayerVersion LayerName.
    layers = lam.get_function(FunctionName="Described")["Configuration"]["Layers"]
    assert len(layers) == 1
    assert re.match(rf"^arn:aws:lambda:{REGION}:{ACCOUNT}:layer:audit-shared:\d+$", layers[0]["Arn"]), layers


# -- ListFunctions -----------------------------------------------------------------------------

def test_list_functions_returns_at_most_50_per_page(lam):
    # API_ListFunctions.html, MaxItems: "ListFunctions returns a maximum of 50 items in each
    # response, even if you set the number higher."
    page = lam.list_functions(MaxItems=100)
    assert len(page["Functions"]) <= 50, len(page["Functions"])
    assert page.get("NextMarker")


def test_list_functions_default_page_and_paging_covers_everything(lam):
    # API_ListFunctions.html: "Lambda returns up to 50 functions per call"; NextMarker "included
    # if more results are available".
    names = []
    kwargs = {}
    for _ in range(10):
        page = lam.list_functions(**kwargs)
        assert len(page["Functions"]) <= 50
        names += [f["FunctionName"] for f in page["Functions"]]
        if not page.get("NextMarker"):
            break
        kwargs = {"Marker": page["NextMarker"]}
    assert len(names) == len(set(names)) == PAD_FUNCTIONS + 2


def test_list_functions_returns_the_documented_subset(lam):
    # API_ListFunctions.html: "The ListFunctions operation returns a subset of the
    # FunctionConfiguration fields. To get the additional fields (State, StateReasonCode,
    # StateReason, LastUpdateStatus, LastUpdateStatusReason, LastUpdateStatusReasonCode,
    # RuntimeVersionConfig) for a function or version, use GetFunction."
    functions = lam.list_functions(MaxItems=5)["Functions"]
    extra = {"State", "StateReasonCode", "StateReason", "LastUpdateStatus",
             "LastUpdateStatusReason", "LastUpdateStatusReasonCode", "RuntimeVersionConfig"}
    present = sorted({key for f in functions for key in f} & extra)
    assert present == [], present
