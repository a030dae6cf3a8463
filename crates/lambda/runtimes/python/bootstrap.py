"""Stratus runtime interface client for the managed ``python3.x`` runtimes.

Stratus starts every Python function process as

    <python interpreter> -u /path/to/bootstrap.py

(or with PYTHONUNBUFFERED=1, which has the same effect) and with the
environment Lambda would set (``AWS_LAMBDA_RUNTIME_API``, ``_HANDLER``,
``LAMBDA_TASK_ROOT``, ...). This file is the whole runtime. It imports the
user's handler and serves invocations over the Lambda Runtime API
(``http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/...``), so an unchanged
``app.lambda_handler`` behaves as it does under AWS's own Python runtime
client (awslambdaric). It reproduces awslambdaric's handler resolution,
init and invoke error bodies and log lines, JSON marshalling (including
Decimal), the LambdaContext object and the root logger's format.

Things that are Stratus's own:

* After each invocation, before the result or error is posted, stdout and
  stderr are flushed: Stratus reads the output pipe when the result arrives,
  so everything the invocation printed is in its log before its END line.
  Nothing Stratus-specific is written to stdout.
* The Runtime API is spoken over one persistent keep-alive connection with
  hand-written HTTP/1.1. http.client is too slow for a hot loop. Stratus
  hands the process one end of a socket pair for it (``_STRATUS_RUNTIME_FD``);
  without one, the client connects to AWS_LAMBDA_RUNTIME_API over TCP. The
  GET next that follows a result or error goes out in the same write as its
  POST (HTTP/1.1 pipelining), which saves a round trip per invocation.
* When the Runtime API goes away (connection refused or reset and a single
  reconnect fails), the process exits 0 without output, so it never outlives
  Stratus.

Only the standard library is used. The file runs on Python 3.8 through 3.13.
Cold start matters, so the module imports only what every run needs:
``_socket`` and ``_json`` rather than ``socket``/``json``, which would pull in
``enum``, ``re``, ``selectors`` and ``collections``. ``traceback``,
``decimal``, ``datetime`` and ``importlib`` are imported only when needed.
``logging`` is never imported here: an import hook sets up the Lambda root
logger the moment the user's code first imports it. Python compiles a script
run as ``__main__`` on every start and never caches it. For this file that
costs about 10 ms. A launcher that wants to save it can run a ``.pyc``
compiled once per interpreter (``py_compile.compile(src, cfile=...)``),
which behaves identically.
"""

import os
import sys
import time

import _json
import _socket

# ---------------------------------------------------------------------------
# Constants (messages and formats are awslambdaric's, byte for byte)
# ---------------------------------------------------------------------------

_API_PREFIX = b"/2018-06-01/runtime"

# awslambdaric indents traceback lines in its error log entry with NO-BREAK
# SPACE, so CloudWatch does not strip the indentation.
_ERROR_LOG_INDENT = "\u00a0"
# awslambdaric joins the lines of an error log entry with "\r" when it
# writes to a plain stream (StandardLogSink). Inside AWS's telemetry log
# frame the entry is joined with "\n" and forms one record. Stratus asked for
# the "\n" form, written in a single write() to stderr.
_ERROR_LOG_JOIN = "\n"

_UNHANDLED_WARNING = (
    "LAMBDA_WARNING: "
    "Unhandled exception. "
    "The most likely cause is an issue in the function code. "
    "However, in rare cases, a Lambda runtime update can cause unexpected function behavior. "
    "For functions using managed runtimes, runtime updates can be triggered by a function change, "
    "or can be applied automatically. "
    "To determine if the runtime has been updated, check the runtime version in the INIT_START log entry. "
    "If this error correlates with a change in the runtime version, you may be able to mitigate this "
    "error by temporarily rolling back to the previous runtime version. "
    "For more information, see https://docs.aws.amazon.com/lambda/latest/dg/runtimes-update.html"
)

_TEXT_LOG_FORMAT = "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n"
_DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%S"

# LogRecord attributes that awslambdaric's JSON formatter does not copy into
# the JSON object as extra fields.
_JSON_LOG_RESERVED = frozenset((
    "name", "msg", "args", "levelname", "levelno", "pathname", "filename",
    "module", "exc_info", "exc_text", "stack_info", "lineno", "funcName",
    "created", "msecs", "relativeCreated", "thread", "threadName",
    "processName", "process", "aws_request_id", "tenant_id", "_frame_type",
))


class FaultException(Exception):
    """A runtime-detected error with a Lambda error type (awslambdaric's name)."""

    MARSHAL_ERROR = "Runtime.MarshalError"
    UNMARSHAL_ERROR = "Runtime.UnmarshalError"
    USER_CODE_SYNTAX_ERROR = "Runtime.UserCodeSyntaxError"
    HANDLER_NOT_FOUND = "Runtime.HandlerNotFound"
    IMPORT_MODULE_ERROR = "Runtime.ImportModuleError"
    BUILT_IN_MODULE_CONFLICT = "Runtime.BuiltInModuleConflict"
    MALFORMED_HANDLER_NAME = "Runtime.MalformedHandlerName"
    LAMBDA_CONTEXT_UNMARSHAL_ERROR = "Runtime.LambdaContextUnmarshalError"

    def __init__(self, exception_type, msg, trace=None):
        Exception.__init__(self, msg)
        self.msg = msg
        self.exception_type = exception_type
        self.trace = trace


# ---------------------------------------------------------------------------
# Settings read once from the environment
# ---------------------------------------------------------------------------


def _ensure_ascii_for(execution_env):
    # awslambdaric emits non-ASCII characters unescaped only for
    # AWS_Lambda_python3.12 and 3.13, the newest runtimes in the marshaller
    # we checked. Newer versions are assumed to keep that behaviour.
    prefix = "AWS_Lambda_python3."
    if execution_env and execution_env.startswith(prefix):
        minor = execution_env[len(prefix):]
        if minor.isdigit() and int(minor) >= 12:
            return False
    return True


_ENSURE_ASCII = _ensure_ascii_for(os.environ.get("AWS_EXECUTION_ENV"))
_LOG_FORMAT_JSON = (os.environ.get("AWS_LAMBDA_LOG_FORMAT") or "").upper() == "JSON"
# awslambdaric maps only the exact string "TRACE" to DEBUG, then upper-cases.
_raw_level = os.environ.get("AWS_LAMBDA_LOG_LEVEL")
_LOG_LEVEL = {None: "", "TRACE": "DEBUG"}.get(_raw_level, _raw_level).upper()
del _raw_level

# The logging filter reads these, as awslambdaric's LambdaLoggerFilter does.
_request_id = None
_tenant_id = None

# ---------------------------------------------------------------------------
# JSON: awslambdaric's marshaller rebuilt on the C accelerator (_json)
# ---------------------------------------------------------------------------
# awslambdaric encodes with simplejson, configured as follows: default
# separators, allow_nan, ensure_ascii unless python3.12+, Decimal written as
# its str() with no quotes (NaN Decimals as NaN), bytes decoded as UTF-8 and
# objects with an _asdict() method written as objects. Stdlib json does the
# same for everything else. The C encoder cannot emit raw text from default(),
# so results that contain a Decimal are encoded a second time with a string
# encoder that lets a private str subclass through unquoted. Results without
# a Decimal keep the C fast path.

_NAN = float("nan")
_encode_str = _json.encode_basestring_ascii if _ENSURE_ASCII else _json.encode_basestring
_make_encoder = _json.make_encoder


class _RawJSON(str):
    """Text written to the output as is (a Decimal's digits)."""

    __slots__ = ()


class _NeedsRaw(Exception):
    """The fast pass met a Decimal: encode again with raw-text support."""


def _default_common(o):
    if isinstance(o, bytes):
        return o.decode("utf-8")  # simplejson's `encoding="utf-8"` behaviour
    asdict = getattr(o, "_asdict", None)
    if asdict is not None and callable(asdict):
        d = asdict()
        if not isinstance(d, dict):
            raise TypeError("_asdict() must return a dict, not %s" % (type(d).__name__,))
        return d
    raise TypeError("Object of type %s is not JSON serializable" % (o.__class__.__name__,))


def _default_fast(o):
    # decimal may not be imported at all. Then nothing can be a Decimal, and
    # we never pay for importing it.
    dec = sys.modules.get("decimal")
    if dec is not None and isinstance(o, dec.Decimal):
        if o.is_nan():
            return _NAN
        raise _NeedsRaw()
    return _default_common(o)


def _default_raw(o):
    dec = sys.modules.get("decimal")
    if dec is not None and isinstance(o, dec.Decimal):
        if o.is_nan():
            return _NAN
        return _RawJSON(o)
    return _default_common(o)


def _encode_str_raw(s, _enc=_encode_str, _raw=_RawJSON):
    if s.__class__ is _raw:
        return s
    return _enc(s)


def to_json(obj):
    """Serialize like awslambdaric's ``to_json``; returns str."""
    try:
        return "".join(_make_encoder({}, _default_fast, _encode_str, None, ": ", ", ",
                                     False, False, True)(obj, 0))
    except _NeedsRaw:
        return "".join(_make_encoder({}, _default_raw, _encode_str_raw, None, ": ", ", ",
                                     False, False, True)(obj, 0))


def _to_ascii_json(obj):
    # Used for HTTP header values, which must stay ASCII whatever the runtime.
    return "".join(_make_encoder({}, _default_raw, _encode_str_raw_ascii, None, ": ", ", ",
                                 False, False, True)(obj, 0))


def _encode_str_raw_ascii(s, _enc=_json.encode_basestring_ascii, _raw=_RawJSON):
    if s.__class__ is _raw:
        return s
    return _enc(s)


def _log_default(o):
    # awslambdaric's JSON log formatter uses plain stdlib json.
    raise TypeError("Object of type %s is not JSON serializable" % (o.__class__.__name__,))


def _log_to_json(obj):
    return "".join(_make_encoder({}, _log_default, _json.encode_basestring, None, ": ", ", ",
                                 False, False, True)(obj, 0))


class _ScanContext(object):
    # The attributes that _json.make_scanner reads, with json.JSONDecoder's defaults.
    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = {"-Infinity": float("-inf"), "Infinity": float("inf"), "NaN": _NAN}.__getitem__


_scan_once = _json.make_scanner(_ScanContext())
_WHITESPACE = " \t\n\r"


def _decode_error(msg, doc, pos, end=None):
    # Same text as json/simplejson JSONDecodeError, without importing re.
    lineno = doc.count("\n", 0, pos) + 1
    colno = pos + 1 if lineno == 1 else pos - doc.rindex("\n", 0, pos)
    if end is None:
        return ValueError("%s: line %d column %d (char %d)" % (msg, lineno, colno, pos))
    endlineno = doc.count("\n", 0, end) + 1
    endcolno = end + 1 if endlineno == 1 else end - doc.rindex("\n", 0, end)
    return ValueError("%s: line %d column %d - line %d column %d (char %d - %d)"
                      % (msg, lineno, colno, endlineno, endcolno, pos, end))


def loads(data, simplejson_style=True):
    """Parse JSON like awslambdaric: simplejson for events, stdlib json for headers.

    Bytes are decoded as UTF-8 and a leading BOM is skipped, as simplejson
    does. The C scanner does the parsing.
    """
    if isinstance(data, (bytes, bytearray)):
        data = data.decode("utf-8")
    n = len(data)
    idx = 0
    if simplejson_style and n and data[0] == "\ufeff":
        idx = 1
    ws = _WHITESPACE
    while idx < n and data[idx] in ws:
        idx += 1
    try:
        obj, end = _scan_once(data, idx)
    except StopIteration as e:
        raise _decode_error("Expecting value", data, e.value) from None
    except Exception:
        # On 3.10/3.11 the C scanner cannot build its JSONDecodeError unless
        # json.decoder is already imported; it raises SystemError instead.
        # Import it (this is the error path only) and scan again for the real error.
        import json.decoder  # noqa: F401
        obj, end = _scan_once(data, idx)
    if end != n:
        tail = data[end:]
        rest = tail.lstrip(ws)
        if rest:
            pos = end + len(tail) - len(rest)
            if simplejson_style:
                raise _decode_error("Extra data", data, pos, n)
            raise _decode_error("Extra data", data, pos)
    return obj


# ---------------------------------------------------------------------------
# LambdaContext (attribute names, types and __repr__ as in awslambdaric)
# ---------------------------------------------------------------------------

_W3C_ALLOWED_FIELDS = ("traceparent", "tracestate", "baggage")
_NO_W3C = {}


class LambdaContext(object):
    def __init__(self, invoke_id, client_context, cognito_identity,
                 epoch_deadline_time_in_ms, invoked_function_arn=None, tenant_id=None):
        environ = os.environ
        self.aws_request_id = invoke_id
        self.log_group_name = environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = environ.get("AWS_LAMBDA_FUNCTION_NAME")
        # A string, as in awslambdaric (it is the env var's value).
        self.memory_limit_in_mb = environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.function_version = environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = invoked_function_arn
        self.tenant_id = tenant_id
        if client_context is None:
            self._w3c_fields = _NO_W3C  # w3c() returns a copy, so sharing is safe
            self.client_context = None
        else:
            self._w3c_fields = _extract_w3c(client_context)
            cc = ClientContext()
            cc.custom = client_context.get("custom")
            cc.env = client_context.get("env")
            client = client_context.get("client")
            if client is not None:
                c = Client()
                for field in Client.__slots__:
                    setattr(c, field, client.get(field))
                client = c
            cc.client = client
            self.client_context = cc

        identity = CognitoIdentity()
        identity.cognito_identity_id = None
        identity.cognito_identity_pool_id = None
        if cognito_identity is not None:
            identity.cognito_identity_id = cognito_identity.get("cognitoIdentityId")
            identity.cognito_identity_pool_id = cognito_identity.get("cognitoIdentityPoolId")
        self.identity = identity

        self._epoch_deadline_time_in_ms = epoch_deadline_time_in_ms

    def get_remaining_time_in_millis(self):
        delta_ms = self._epoch_deadline_time_in_ms - int(time.time() * 1000)
        return delta_ms if delta_ms > 0 else 0

    def w3c(self):
        """The W3C trace-context fields passed in the client context."""
        return dict(self._w3c_fields)

    def log(self, msg):
        # awslambdaric writes through the root handler's log sink, which for a
        # plain process is sys.stdout.
        sys.stdout.write(str(msg))

    def __repr__(self):
        return (
            "%s([aws_request_id=%s,log_group_name=%s,log_stream_name=%s,function_name=%s,"
            "memory_limit_in_mb=%s,function_version=%s,invoked_function_arn=%s,"
            "client_context=%s,identity=%s,tenant_id=%s])"
            % (self.__class__.__name__, self.aws_request_id, self.log_group_name,
               self.log_stream_name, self.function_name, self.memory_limit_in_mb,
               self.function_version, self.invoked_function_arn, self.client_context,
               self.identity, self.tenant_id)
        )


def _extract_w3c(client_context):
    # awslambdaric removes "w3c" from the client context and exposes only
    # its allowlisted string fields through context.w3c().
    if not isinstance(client_context, dict) or "w3c" not in client_context:
        return {}
    raw = client_context.pop("w3c")
    if not isinstance(raw, dict):
        return {}
    return {k: raw[k] for k in _W3C_ALLOWED_FIELDS if isinstance(raw.get(k), str)}


class CognitoIdentity(object):
    __slots__ = ["cognito_identity_id", "cognito_identity_pool_id"]

    def __repr__(self):
        return "%s([cognito_identity_id=%s,cognito_identity_pool_id=%s])" % (
            self.__class__.__name__, self.cognito_identity_id, self.cognito_identity_pool_id)


class Client(object):
    __slots__ = ["installation_id", "app_title", "app_version_name",
                 "app_version_code", "app_package_name"]

    def __repr__(self):
        return ("%s([installation_id=%s,app_title=%s,app_version_name=%s,"
                "app_version_code=%s,app_package_name=%s])") % (
            self.__class__.__name__, self.installation_id, self.app_title,
            self.app_version_name, self.app_version_code, self.app_package_name)


class ClientContext(object):
    __slots__ = ["custom", "env", "client"]

    def __repr__(self):
        return "%s([custom=%s,env=%s,client=%s])" % (
            self.__class__.__name__, self.custom, self.env, self.client)


def _parse_json_header(value, name):
    try:
        return loads(value, simplejson_style=False)
    except Exception as e:
        raise FaultException(FaultException.LAMBDA_CONTEXT_UNMARSHAL_ERROR,
                             "Unable to parse %s JSON: %s" % (name, e))


# ---------------------------------------------------------------------------
# Logging: the Lambda root handler, installed when `logging` is first imported
# ---------------------------------------------------------------------------


class _StdoutLogSink(object):
    """awslambdaric's StandardLogSink: log records go to (the current) sys.stdout."""

    def log(self, msg, frame_type=None):
        sys.stdout.write(msg)


def _configure_logging(logging):
    """Give the root logger awslambdaric's handler, formatter, filter and level."""
    logging.Formatter.converter = time.gmtime
    sink = _StdoutLogSink()

    class LambdaLoggerHandler(logging.Handler):
        def __init__(self, log_sink):
            logging.Handler.__init__(self)
            self.log_sink = log_sink

        def emit(self, record):
            self.log_sink.log(self.format(record))

    # awslambdaric uses this class when the format is JSON or a level is set.
    # It only differs in the telemetry frame type, which a pipe has no room for.
    class LambdaLoggerHandlerWithFrameType(LambdaLoggerHandler):
        pass

    class LambdaLoggerFilter(logging.Filter):
        def filter(self, record):
            record.aws_request_id = _request_id or ""
            record.tenant_id = _tenant_id
            return True

    if _LOG_FORMAT_JSON or _LOG_LEVEL:
        handler = LambdaLoggerHandlerWithFrameType(sink)
    else:
        handler = LambdaLoggerHandler(sink)
    if _LOG_FORMAT_JSON:
        handler.setFormatter(_make_json_formatter(logging)())
    else:
        handler.setFormatter(logging.Formatter(_TEXT_LOG_FORMAT, _DATETIME_FORMAT))
    root = logging.getLogger()
    if _LOG_LEVEL in logging._nameToLevel:
        root.setLevel(_LOG_LEVEL)
    handler.addFilter(LambdaLoggerFilter())
    root.addHandler(handler)


def _make_json_formatter(logging):
    from datetime import datetime, timezone

    class JsonFormatter(logging.Formatter):
        def __init__(self):
            logging.Formatter.__init__(self, datefmt=_DATETIME_FORMAT)

        def formatTime(self, record, datefmt=None):
            dt = datetime.fromtimestamp(record.created, tz=timezone.utc)
            return dt.strftime(_DATETIME_FORMAT + ".%f")[:-3] + "Z"

        def format(self, record):
            record.levelno = min(50, max(0, record.levelno)) // 10 * 10
            record.levelname = logging.getLevelName(record.levelno)
            exc_info = record.exc_info
            if exc_info:
                import traceback
                stack = traceback.format_tb(exc_info[2])
                etype = exc_info[0].__name__
                emsg = str(exc_info[1])
                location = "%s:%s:%s" % (record.pathname, record.funcName, record.lineno)
            else:
                stack = etype = emsg = location = None
            result = {
                "timestamp": self.formatTime(record, self.datefmt),
                "level": record.levelname,
                "message": record.getMessage(),
                "logger": record.name,
                "stackTrace": stack,
                "errorType": etype,
                "errorMessage": emsg,
                "requestId": getattr(record, "aws_request_id", None),
                "location": location,
            }
            if getattr(record, "tenant_id", None) is not None:
                result["tenantId"] = record.tenant_id
            for key, value in record.__dict__.items():
                if key not in _JSON_LOG_RESERVED and key not in result:
                    result[key] = value
            return _log_to_json({k: v for k, v in result.items() if v is not None}) + "\n"

    return JsonFormatter


class _LoggingImportHook(object):
    """A meta-path finder that sets up the root logger as `logging` is first imported.

    Importing logging costs ~10 ms, more than the whole runtime otherwise
    needs, and many handlers never use it. The handler must still be there
    before any user code touches logging. Otherwise logging.basicConfig() in
    user code would install its own handler, which it cannot do on Lambda.
    So the hook wraps the loader of the real `logging` module and configures
    it right after the module body runs.
    """

    def find_spec(self, name, path=None, target=None):
        if name != "logging":
            return None
        try:
            sys.meta_path.remove(self)
        except ValueError:
            pass
        for finder in sys.meta_path:
            find_spec = getattr(finder, "find_spec", None)
            if find_spec is None:
                continue
            spec = find_spec(name, path, target)
            if spec is not None:
                break
        else:
            return None
        if spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        spec.loader = _ConfiguringLoader(spec.loader)
        return spec


class _ConfiguringLoader(object):
    def __init__(self, loader):
        self._loader = loader

    def __getattr__(self, name):
        return getattr(self._loader, name)

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        # Put the real loader back before logging's own code can see it.
        real = self._loader
        module.__loader__ = real
        spec = getattr(module, "__spec__", None)
        if spec is not None:
            spec.loader = real
        real.exec_module(module)
        try:
            _configure_logging(module)
        except Exception:
            # Not the stdlib logging (a user module of that name, say):
            # leave it alone rather than break the user's import.
            pass


def _install_logging():
    logging = sys.modules.get("logging")
    if logging is not None:  # imported by sitecustomize or a .pth file
        _configure_logging(logging)
    else:
        sys.meta_path.insert(0, _LoggingImportHook())


# ---------------------------------------------------------------------------
# Error bodies and error log entries (awslambdaric's format)
# ---------------------------------------------------------------------------


def make_error(error_message, error_type, stack_trace, invoke_id=None):
    return {
        "errorMessage": error_message if error_message else "",
        "errorType": error_type if error_type else "",
        "requestId": invoke_id if invoke_id is not None else "",
        "stackTrace": stack_trace if stack_trace else [],
    }


def _extract_frames(tb):
    import traceback
    frames = [(f.filename, f.lineno, f.name, f.line) for f in traceback.extract_tb(tb)]
    # Drop the runtime's own leading frames. Like awslambdaric, match any
    # path ending in "/bootstrap.py", and keep everything if nothing else is left.
    for i in range(len(frames)):
        if "/bootstrap.py" not in frames[i][0]:
            return frames[i:]
    return frames


def _format_frames(frames):
    import traceback
    return traceback.format_list(frames)


def _xray_fault(ex_type, ex_msg, frames):
    stack = []
    files = set()
    for path, line, label, _code in frames:
        stack.append({"label": label, "path": path, "line": line})
        files.add(path)
    return {
        "working_directory": os.getcwd(),
        "exceptions": [{"message": ex_msg, "type": ex_type, "stack": stack}],
        "paths": list(files),
    }


def _replace_indent(line):
    n = len(line) - len(line.lstrip(" "))
    return _ERROR_LOG_INDENT * n + line[n:]


def log_error(error_result):
    """Write awslambdaric's error log entry, with one write() call."""
    if _LOG_FORMAT_JSON:
        entry = dict(timestamp=time.strftime(_DATETIME_FORMAT, time.gmtime(time.time())),
                     level="ERROR")
        entry.update(error_result)
        text = to_json(entry) + "\n"
    else:
        description = "[ERROR]"
        etype = error_result.get("errorType")
        if etype:
            description += " " + etype
        emsg = error_result.get("errorMessage")
        if emsg:
            if etype:
                description += ":"
            description += " " + emsg
        lines = [description]
        stack_trace = error_result.get("stackTrace")
        if stack_trace is not None:
            lines.append("Traceback (most recent call last):")
            for element in stack_trace:
                if element == "":
                    lines.append("")
                else:
                    lines.extend(_replace_indent(l) for l in element.splitlines())
        text = _ERROR_LOG_JOIN.join(lines) + "\n"
    try:
        sys.stderr.write(text)
    except Exception:
        pass


# ---------------------------------------------------------------------------
# Runtime API client: one keep-alive socket, minimal HTTP/1.1
# ---------------------------------------------------------------------------


class _Gone(Exception):
    """The Runtime API cannot be reached any more: Stratus has gone away."""


class _Lost(Exception):
    """The connection closed before a complete response arrived."""


_NO_BODY_STATUSES = (204, 304)
_RECV = 65536


class RuntimeAPIClient(object):
    __slots__ = ("_hostport", "_host_header", "_addrs", "_sock", "_buf", "_next_request", "_direct")

    def __init__(self, address, direct=None):
        host, port = address, 80
        if address.startswith("["):  # [IPv6]:port
            close = address.find("]")
            host = address[1:close]
            if address[close + 1:close + 2] == ":":
                port = int(address[close + 2:])
        elif ":" in address:
            host, _, p = address.rpartition(":")
            port = int(p)
        self._hostport = (host, port)
        self._host_header = address.encode("latin-1")
        self._addrs = None
        self._sock = None
        self._buf = b""
        self._next_request = (b"GET " + _API_PREFIX + b"/invocation/next HTTP/1.1\r\nHost: "
                              + self._host_header + b"\r\n\r\n")
        # The connection Stratus handed over, while it lasts (see _handed_socket).
        self._direct = direct
        if direct is not None:
            self._sock = direct

    # -- connection ---------------------------------------------------------

    def _connect(self):
        if self._addrs is None:
            self._addrs = self._resolve()
        for family, socktype, proto, _name, sockaddr in self._addrs:
            sock = _socket.socket(family, socktype, proto)
            try:
                sock.connect(sockaddr)
            except OSError:
                sock.close()
                continue
            if family == _socket.AF_INET or family == _socket.AF_INET6:
                sock.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1)
            self._sock = sock
            self._buf = b""
            return sock
        raise _Gone()

    def _resolve(self):
        host, port = self._hostport
        # A numeric address (the usual case) needs no lookup. getaddrinfo()
        # with a str host imports encodings.idna, which pulls in re, enum and
        # collections (10+ ms). An ASCII bytes host avoids that.
        for family in (_socket.AF_INET, _socket.AF_INET6):
            try:
                _socket.inet_pton(family, host)
            except (OSError, ValueError):
                continue
            return [(family, _socket.SOCK_STREAM, 0, "", (host, port))]
        try:
            name = host.encode("ascii")
        except UnicodeEncodeError:
            name = host
        try:
            return _socket.getaddrinfo(name, port, 0, _socket.SOCK_STREAM)
        except OSError:
            raise _Gone()

    def _close(self):
        sock = self._sock
        self._sock = None
        self._buf = b""
        if sock is self._direct:
            self._direct = None
        if sock is not None:
            try:
                sock.close()
            except OSError:
                pass

    def close(self):
        self._close()

    def _failed(self, sock):
        """Closes a connection an exchange failed on. When it was the one
        Stratus handed over, Stratus is gone: raise _Gone (no retry, and no
        move to TCP, where another instance may listen by now)."""
        handed = sock is self._direct
        self._close()
        if handed:
            raise _Gone()

    # -- one request --------------------------------------------------------

    def _roundtrip(self, head, body=b""):
        """Send a request and return (status, headers, body).

        If the connection turns out to be closed (the server dropped an idle
        keep-alive connection, say), reconnect once and send the request
        again. Raise _Gone when that does not work either.
        """
        for attempt in (0, 1):
            sock = self._sock
            if sock is None:
                sock = self._connect()
            try:
                if body and len(body) > _RECV:
                    sock.sendall(head)
                    sock.sendall(body)
                else:
                    sock.sendall(head + body if body else head)
                return self._read_response(sock)
            except (_Lost, OSError):
                self._failed(sock)
                if attempt:
                    raise _Gone()
        raise _Gone()  # not reached

    def _roundtrip_then_next(self, head, body):
        """Send a small request and, in the same write, GET next (HTTP/1.1
        pipelining: one round trip less per invocation). Return the first
        request's (status, headers, body) and the invocation GET next
        answered, as next() returns it, or None when that answer did not come
        on this connection (the caller then asks again with next()).

        The first request is retried on a new connection as _roundtrip does.
        When it fails (not 2xx), the answer to GET next is not read: the
        caller raises and the process ends, as it does without pipelining.
        """
        for attempt in (0, 1):
            sock = self._sock
            if sock is None:
                sock = self._connect()
            try:
                sock.sendall(b"".join((head, body, self._next_request)))
                first = self._read_response(sock)
                break
            except (_Lost, OSError):
                self._failed(sock)
                if attempt:
                    raise _Gone()
        sock = self._sock
        if sock is None or not 200 <= first[0] < 300:
            # The server closed the connection after its answer: GET next was
            # never read there.
            return first, None
        try:
            return first, self._next_answer(self._read_response(sock))
        except (_Lost, OSError):
            self._failed(sock)
            return first, None

    def _read_response(self, sock):
        buf = self._buf
        while True:
            end = buf.find(b"\r\n\r\n")
            if end >= 0:
                head = buf[:end]
                buf = buf[end + 4:]
                lines = head.split(b"\r\n")
                status_line = lines[0]
                if not status_line.startswith(b"HTTP/"):
                    raise RuntimeError("Runtime API sent a malformed status line: %r" % status_line[:80])
                status = int(status_line[9:12])
                headers = {}
                for line in lines[1:]:
                    name, _, value = line.partition(b":")
                    headers[name.strip().lower()] = value.strip()
                if 100 <= status < 200:  # interim response: skip it
                    continue
                te = headers.get(b"transfer-encoding")
                if te is not None and b"chunked" in te.lower():
                    body, buf = self._read_chunked(sock, buf)
                else:
                    length = headers.get(b"content-length")
                    if length is not None:
                        n = int(length)
                        if len(buf) < n:
                            buf = _fill(sock, buf, n)
                        body = buf[:n]
                        buf = buf[n:]
                    elif status in _NO_BODY_STATUSES:
                        body = b""
                    else:  # delimited by the end of the connection
                        parts = [buf]
                        while True:
                            data = sock.recv(_RECV)
                            if not data:
                                break
                            parts.append(data)
                        body = b"".join(parts)
                        buf = b""
                        headers[b"connection"] = b"close"
                conn = headers.get(b"connection")
                if conn is not None and conn.lower() == b"close":
                    self._close()
                else:
                    self._buf = buf
                return status, headers, body
            data = sock.recv(_RECV)
            if not data:
                raise _Lost()
            buf = buf + data if buf else data

    def _read_chunked(self, sock, buf):
        parts = []
        while True:
            while True:
                eol = buf.find(b"\r\n")
                if eol >= 0:
                    break
                buf = _fill(sock, buf, len(buf) + 1)
            size = int(buf[:eol].split(b";", 1)[0].strip(), 16)
            buf = buf[eol + 2:]
            if size == 0:
                # Trailers (ignored) up to an empty line.
                while True:
                    eol = buf.find(b"\r\n")
                    if eol < 0:
                        buf = _fill(sock, buf, len(buf) + 1)
                        continue
                    line = buf[:eol]
                    buf = buf[eol + 2:]
                    if not line:
                        return b"".join(parts), buf
            if len(buf) < size + 2:
                buf = _fill(sock, buf, size + 2)
            parts.append(buf[:size])
            buf = buf[size + 2:]

    # -- Runtime API calls ----------------------------------------------------

    def next(self):
        return self._next_answer(self._roundtrip(self._next_request))

    @staticmethod
    def _next_answer(response):
        status, headers, body = response
        if status != 200:
            raise RuntimeError("Failed to get next invocation: HTTP %d: %s"
                               % (status, body[:1000].decode("utf-8", "replace")))
        return headers, body

    def _post(self, what, path, body, extra_headers, then_next=False):
        head = b"".join((b"POST ", path, b" HTTP/1.1\r\nHost: ", self._host_header, b"\r\n",
                         extra_headers, b"Content-Length: ", b"%d" % len(body), b"\r\n\r\n"))
        following = None
        # Only a request that goes out in one write is pipelined: a server that
        # refuses a big body (413) stops reading there.
        if then_next and len(head) + len(body) <= _RECV:
            (status, _headers, resp), following = self._roundtrip_then_next(head, body)
        else:
            status, _headers, resp = self._roundtrip(head, body)
        if not 200 <= status < 300:
            # awslambdaric raises here too, and the process dies with it.
            raise RuntimeError("Failed to post %s: HTTP %d: %s"
                               % (what, status, resp[:1000].decode("utf-8", "replace")))
        return following

    def post_invocation_result(self, request_id, body, content_type, then_next=False):
        """Post the result; with then_next, return the next invocation (as
        next() does) when it was asked for in the same write, else None."""
        return self._post("invocation response",
                          b"".join((_API_PREFIX, b"/invocation/", request_id, b"/response")),
                          body, b"Content-Type: " + content_type + b"\r\n", then_next)

    def post_invocation_error(self, request_id, body, error_type, xray_cause, then_next=False):
        extra = (b"Content-Type: application/json\r\nLambda-Runtime-Function-Error-Type: "
                 + _header_value(error_type) + b"\r\n")
        if xray_cause is not None:
            extra += b"Lambda-Runtime-Function-XRay-Error-Cause: " + xray_cause + b"\r\n"
        return self._post("invocation error",
                          b"".join((_API_PREFIX, b"/invocation/", request_id, b"/error")),
                          body, extra, then_next)

    def post_init_error(self, body, error_type):
        self._post("init error", _API_PREFIX + b"/init/error", body,
                   b"Lambda-Runtime-Function-Error-Type: " + _header_value(error_type) + b"\r\n")


def _fill(sock, buf, n):
    """Receive until buf holds at least n bytes (joined once, not per recv)."""
    parts = [buf]
    have = len(buf)
    while have < n:
        data = sock.recv(max(_RECV, min(n - have, 1 << 20)))
        if not data:
            raise _Lost()
        parts.append(data)
        have += len(data)
    return b"".join(parts)


def _handed_socket():
    """The connection Stratus hands its own bootstrap, or None.

    Stratus starts the process with one end of a socket pair open and its
    number in ``_STRATUS_RUNTIME_FD`` (Stratus's variable, not Lambda's: it is
    removed before the handler loads). The Runtime API is spoken on it exactly
    as over TCP, with blocking calls, but without the TCP stack on either
    side. An end of file or an error on it means Stratus is gone. Only an
    answer with ``Connection: close`` (which Stratus does not send) moves the
    client to AWS_LAMBDA_RUNTIME_API.
    """
    value = os.environ.pop("_STRATUS_RUNTIME_FD", None)
    if value is None:
        return None
    try:
        fd = int(value)
        if fd < 0:
            return None
        # Programs the function starts must not hold Stratus's end open.
        os.set_inheritable(fd, False)
        sock = _socket.socket(fileno=fd)
        sock.setblocking(True)
        return sock
    except (ValueError, OSError):
        return None


def _header_value(text):
    # A header value must be a single line. Error types are plain names, so
    # this is only a guard.
    return text.replace("\r", " ").replace("\n", " ").encode("utf-8", "replace")


# ---------------------------------------------------------------------------
# Handler loading and init errors
# ---------------------------------------------------------------------------


def _get_handler(handler):
    try:
        modname, fname = handler.rsplit(".", 1)
    except ValueError as e:
        raise FaultException(FaultException.MALFORMED_HANDLER_NAME,
                             "Bad handler '%s': %s" % (handler, e))
    try:
        if modname.split(".")[0] in sys.builtin_module_names:
            raise FaultException(FaultException.BUILT_IN_MODULE_CONFLICT,
                                 "Cannot use built-in module %s as a handler module" % modname)
        # importlib.import_module rather than __import__, so that the frames of
        # an exception raised while importing match awslambdaric's.
        import importlib
        module = importlib.import_module(modname.replace("/", "."))
    except ImportError as e:
        raise FaultException(FaultException.IMPORT_MODULE_ERROR,
                             "Unable to import module '%s': %s" % (modname, e))
    except SyntaxError as e:
        trace = ['  File "%s" Line %s\n    %s' % (e.filename, e.lineno, e.text)]
        raise FaultException(FaultException.USER_CODE_SYNTAX_ERROR,
                             "Syntax error in module '%s': %s" % (modname, e), trace)
    try:
        return getattr(module, fname)
    except AttributeError:
        raise FaultException(FaultException.HANDLER_NOT_FOUND,
                             "Handler '%s' missing on module '%s'" % (fname, modname))


def _report_init_error(client, exc):
    if isinstance(exc, FaultException):
        error = make_error(exc.msg, exc.exception_type, exc.trace)
    else:
        frames = _extract_frames(exc.__traceback__)
        error = make_error(str(exc), type(exc).__name__, _format_frames(frames))
    # awslambdaric logs this warning through the root logger before the error.
    try:
        import logging
        logging.warning(_UNHANDLED_WARNING)
    except Exception:
        pass
    log_error(error)
    _flush_std_streams()
    client.post_init_error(to_json(error).encode("utf-8"), error["errorType"])


# ---------------------------------------------------------------------------
# The invoke loop
# ---------------------------------------------------------------------------


def _flush_std_streams():
    out, err = sys.stdout, sys.stderr
    streams = [out, err]
    # If user code replaced sys.stdout/sys.stderr, the original streams may
    # still hold earlier output.
    if sys.__stdout__ is not out:
        streams.append(sys.__stdout__)
    if sys.__stderr__ is not err:
        streams.append(sys.__stderr__)
    for stream in streams:
        if stream is not None:
            try:
                stream.flush()
            except Exception:
                pass


def _serve(client, handler):
    global _request_id, _tenant_id
    environ = os.environ
    next_invocation = client.next
    post_result = client.post_invocation_result
    marshal_fault = FaultException.MARSHAL_ERROR

    following = None
    while True:
        # The previous post usually brought the next invocation with it.
        headers, event_body = following or next_invocation()
        following = None
        get = headers.get
        request_id_b = get(b"lambda-runtime-aws-request-id", b"")
        request_id = request_id_b.decode("latin-1")
        tenant = get(b"lambda-runtime-aws-tenant-id")
        tenant = tenant.decode("utf-8", "replace") if tenant else None
        _request_id = request_id
        _tenant_id = tenant

        trace_id = get(b"lambda-runtime-trace-id")
        if trace_id:
            environ["_X_AMZN_TRACE_ID"] = trace_id.decode("latin-1")
        elif "_X_AMZN_TRACE_ID" in environ:
            del environ["_X_AMZN_TRACE_ID"]

        error = None
        try:
            client_context = get(b"lambda-runtime-client-context")
            client_context = (_parse_json_header(client_context.decode("utf-8", "replace"), "Client Context")
                              if client_context else None)
            cognito = get(b"lambda-runtime-cognito-identity")
            cognito = (_parse_json_header(cognito.decode("utf-8", "replace"), "Cognito Identity")
                       if cognito else None)
            # aws-lambda-cpp reads a missing ARN as "" and a missing or
            # malformed deadline as 0.
            deadline = get(b"lambda-runtime-deadline-ms")
            try:
                deadline = int(deadline) if deadline else 0
            except ValueError:
                deadline = 0
            arn = get(b"lambda-runtime-invoked-function-arn")
            context = LambdaContext(request_id, client_context, cognito, deadline,
                                    arn.decode("utf-8", "replace") if arn is not None else "",
                                    tenant)
            # awslambdaric parses the event only when the invoke's Content-Type is
            # exactly application/json. Otherwise the handler gets the raw bytes.
            if get(b"content-type") == b"application/json":
                try:
                    event = loads(event_body)
                except Exception as e:
                    raise FaultException(FaultException.UNMARSHAL_ERROR,
                                         "Unable to unmarshal input: %s" % (e,))
            else:
                event = event_body

            response = handler(event, context)

            if isinstance(response, bytes):
                result, content_type = response, b"application/unknown"
            else:
                try:
                    result = to_json(response)
                except Exception as e:
                    raise FaultException(marshal_fault, "Unable to marshal response: %s" % (e,))
                result = result.encode("utf-8")
                content_type = b"application/json"
        except FaultException as e:
            error = make_error(e.msg, e.exception_type, e.trace, request_id)
            xray = _xray_fault("LambdaValidationError", e.msg, [])
        except Exception as e:
            frames = _extract_frames(e.__traceback__)
            error = make_error(str(e), type(e).__name__, _format_frames(frames), request_id)
            xray = _xray_fault(type(e).__name__, str(e), frames)

        if error is None:
            _flush_std_streams()
            following = post_result(request_id_b, result, content_type, True)
        else:
            log_error(error)
            _flush_std_streams()
            xray_cause = _to_ascii_json(xray).encode("ascii")
            if len(xray_cause) >= 1024 * 1024:  # awslambdaric drops a header this big
                xray_cause = None
            following = client.post_invocation_error(request_id_b, to_json(error).encode("utf-8"),
                                                     error["errorType"], xray_cause, True)


def _setup_sys_path():
    # Lambda puts the function's code first on sys.path. The script's own
    # directory (the runtime's) would shadow user modules, so it is replaced.
    # PYTHONPATH entries follow it untouched.
    task_root = os.environ.get("LAMBDA_TASK_ROOT") or os.getcwd()
    script_dirs = (os.path.dirname(os.path.abspath(__file__)),
                   os.path.dirname(os.path.realpath(__file__)), "")
    if sys.path and sys.path[0] in script_dirs:
        sys.path[0] = task_root
    else:
        sys.path.insert(0, task_root)


def main():
    address = os.environ.get("AWS_LAMBDA_RUNTIME_API")
    if not address:
        sys.stderr.write("bootstrap.py: AWS_LAMBDA_RUNTIME_API is not set\n")
        sys.exit(1)
    # Stratus runs us with -u, which makes stdout/stderr write-through.
    # Without -u, at least flush at each line.
    for stream in (sys.stdout, sys.stderr):
        if stream is not None and not getattr(stream, "write_through", True):
            try:
                stream.reconfigure(line_buffering=True)
            except Exception:
                pass
    client = RuntimeAPIClient(address, _handed_socket())
    try:
        _setup_sys_path()
        _install_logging()
        try:
            handler = _get_handler(os.environ.get("_HANDLER", ""))
        except Exception as e:
            _report_init_error(client, e)
            sys.exit(1)
        _serve(client, handler)
    except _Gone:
        # Stratus is gone; leave at once and silently (no atexit output,
        # no flush errors on dead pipes).
        os._exit(0)
    except KeyboardInterrupt:
        os._exit(130)


if __name__ == "__main__":
    main()
