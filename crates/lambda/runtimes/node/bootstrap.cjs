/**
 * Stratus runtime interface client for the managed `nodejsNN.x` runtimes.
 *
 * Stratus runs each Node.js function as a local process: `node bootstrap.cjs`
 * with the environment Lambda sets (_HANDLER, LAMBDA_TASK_ROOT,
 * AWS_LAMBDA_RUNTIME_API, AWS_LAMBDA_FUNCTION_*, ...). This file plays the part
 * of Lambda's own runtime (aws-lambda-nodejs-runtime-interface-client 3.x, "the
 * RIC", which nodejs18.x/20.x/22.x run as /var/runtime/index.mjs): it loads the
 * user's unchanged handler the way the RIC does, then loops on the Lambda
 * Runtime API (GET next, call the handler, POST response or error), with the
 * RIC's context object, callback semantics, error bodies and console format.
 * The RIC file each part follows is named in its section header.
 *
 * Nothing Stratus-specific is written to stdout. When an invocation settles,
 * its /response or /error is posted once all of its console output is on the
 * pipe: Stratus reads the pipe when the result arrives, so the output is in
 * the invocation's log before its END line.
 *
 * Constraints: Node built-ins only; runs on Node 18, 20 and 22. The hot path
 * (event in, result out) and cold start are kept lean: one keep-alive
 * connection with hand-written HTTP/1.1 (measured faster than http.Agent) on
 * the descriptor Stratus hands over (see DirectRapidClient), else over TCP,
 * console writes straight to fd 1, nothing loaded that a given function does
 * not need (node:http only for response streaming, the ESM NODE_PATH hook only
 * when NODE_PATH is set).
 *
 * The RIC is an ES module; this file is CommonJS, because an ES module entry
 * point costs Node some 6-11 ms more to start (its module loader), which a
 * function whose handler is CommonJS then never needs. ES module handlers are
 * loaded with import(), as the RIC loads them, or with require() where that
 * gives the same module sooner (see requireEsm). What the RIC's top-level await
 * does is kept: a failure to load the handler goes to the 'uncaughtException'
 * listener, and a load that never settles ends the process with exit code 13.
 */

'use strict';

const fs = require('node:fs');
const path = require('node:path');
const util = require('node:util');
const nodeModule = require('node:module');
const { pathToFileURL } = require('node:url');

// The RIC loads CommonJS handlers with a require() of its own; so do we: this
// module's. (The "Require stack" of a MODULE_NOT_FOUND names this file where
// AWS names /var/runtime/index.mjs.)

// ---------------------------------------------------------------------------
// Errors (RIC src/Errors.js)
// ---------------------------------------------------------------------------

function isErrorLike(obj) {
  return (
    obj &&
    obj.name &&
    obj.message &&
    obj.stack &&
    typeof obj.name === 'string' &&
    typeof obj.message === 'string' &&
    typeof obj.stack === 'string'
  );
}

function intoError(err) {
  return err instanceof Error ? err : new Error(err);
}

// Body of /init/error and /invocation/{id}/error. Node's RIC uses `trace`
// (not the `stackTrace` of the generic Lambda format).
function toRapidResponse(error) {
  try {
    if (util.types.isNativeError(error) || isErrorLike(error)) {
      return {
        errorType: error.name?.replaceAll('\x7F', '%7F'),
        errorMessage: error.message?.replaceAll('\x7F', '%7F'),
        trace: error.stack.replaceAll('\x7F', '%7F').split('\n'),
      };
    }
    return { errorType: typeof error, errorMessage: error.toString(), trace: [] };
  } catch {
    return {
      errorType: 'handled',
      errorMessage:
        'callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack',
    };
  }
}

function withEnumerableProperties(error) {
  if (error instanceof Error) {
    const ret = Object.assign(
      { errorType: error.name, errorMessage: error.message, code: error.code },
      error,
    );
    if (typeof error.stack === 'string') ret.stack = error.stack.split('\n');
    return ret;
  }
  return error;
}

// The text logged after "Invoke Error" etc.; always starts with a tab.
function toFormatted(error) {
  try {
    return '\t' + JSON.stringify(error, (_k, v) => withEnumerableProperties(v));
  } catch {
    return '\t' + JSON.stringify(toRapidResponse(error));
  }
}

// Class names matter: JSON logs use `constructor.name`, text logs and bodies
// use the prototype's `name`, "Runtime.<class>".
class ImportModuleError extends Error {}
class HandlerNotFound extends Error {}
class MalformedHandlerName extends Error {}
class UserCodeSyntaxError extends Error {}
class MalformedStreamingHandler extends Error {}
class InvalidStreamingOperation extends Error {}
class NodeJsExit extends Error {
  constructor() {
    super(
      'The Lambda runtime client detected an unexpected Node.js exit code. This is most commonly caused by a Promise that was never settled. For more information, see https://nodejs.org/docs/latest/api/process.html#exit-codes',
    );
  }
}
class UnhandledPromiseRejection extends Error {
  constructor(reason, promise) {
    super(reason);
    this.reason = reason;
    this.promise = promise;
  }
}
for (const E of [
  ImportModuleError,
  HandlerNotFound,
  MalformedHandlerName,
  UserCodeSyntaxError,
  MalformedStreamingHandler,
  InvalidStreamingOperation,
  NodeJsExit,
  UnhandledPromiseRejection,
]) {
  E.prototype.name = `Runtime.${E.name}`;
}

// ---------------------------------------------------------------------------
// stdout and the console patch (RIC src/LogPatch.js)
// ---------------------------------------------------------------------------

// Everything goes to fd 1 with synchronous writes: a log line is on the pipe
// before the next statement runs, so the result can never overtake it, and
// process.stdout (a net.Socket over the pipe, costly to create) is never
// needed. The RIC writes the same bytes through process.stdout.write.
let sleepCell = null;
function writeRest(buf) {
  while (buf.length > 0) {
    try {
      buf = buf.subarray(fs.writeSync(1, buf));
    } catch (e) {
      // fd 1 turns non-blocking once user code touches process.stdout over a
      // pipe; a full pipe then says EAGAIN: wait for Stratus to read.
      if (e.code !== 'EAGAIN') return;
      sleepCell ??= new Int32Array(new SharedArrayBuffer(4));
      Atomics.wait(sleepCell, 0, 0, 1);
    }
  }
}
function writeStdout(str) {
  let n = 0;
  try {
    n = fs.writeSync(1, str);
  } catch (e) {
    // EPIPE and the like: nobody reads our logs any more; never let logging
    // fail the function.
    if (e.code !== 'EAGAIN') return;
  }
  if (n < Buffer.byteLength(str)) writeRest(Buffer.from(str).subarray(n));
}

// User code may still write through process.stdout (console.dir/table, some
// loggers); such writes can be queued when the pipe is full. Remember whether
// process.stdout was ever created so a result can wait for its queue.
let stdoutStream = null;
{
  const desc = Object.getOwnPropertyDescriptor(process, 'stdout');
  if (desc?.get && desc.configurable) {
    Object.defineProperty(process, 'stdout', {
      configurable: true,
      enumerable: desc.enumerable,
      get() {
        return (stdoutStream ??= desc.get.call(process));
      },
    });
  }
}

// Calls `then` once everything written through process.stdout is on the pipe
// (console output, written straight to fd 1, always is).
function afterStdout(then) {
  if (stdoutStream !== null && stdoutStream.writableLength > 0) stdoutStream.once('drain', then);
  else then();
}

const REQUEST_ID_SYMBOL = Symbol.for('aws.lambda.runtime.requestId');
const TENANT_ID_SYMBOL = Symbol.for('aws.lambda.runtime.tenantId');
function setCurrentRequestId(id) {
  globalThis[REQUEST_ID_SYMBOL] = id;
}
function setCurrentTenantId(id) {
  globalThis[TENANT_ID_SYMBOL] = id;
}

const jsonErrorReplacer = (_, value) => {
  if (value instanceof Error) {
    return Object.assign(
      {
        errorType: value?.constructor?.name ?? 'UnknownError',
        errorMessage: value.message,
        stackTrace: typeof value.stack === 'string' ? value.stack.split('\n') : value.stack,
      },
      value,
    );
  }
  return value;
};

function formatJsonMessage(requestId, timestamp, level, tenantId, ...messageParams) {
  const result = { timestamp, level: level.name, requestId };
  if (tenantId != undefined && tenantId != null) result.tenantId = tenantId;
  if (messageParams.length === 1) {
    result.message = messageParams[0];
    try {
      return JSON.stringify(result, jsonErrorReplacer);
    } catch {
      result.message = util.format(result.message);
      return JSON.stringify(result);
    }
  }
  result.message = util.format(...messageParams);
  for (const param of messageParams) {
    if (param instanceof Error) {
      result.errorType = param?.constructor?.name ?? 'UnknownError';
      result.errorMessage = param.message;
      result.stackTrace = typeof param.stack === 'string' ? param.stack.split('\n') : [];
      break;
    }
  }
  return JSON.stringify(result);
}

// On Lambda the RIC writes each message as one record of the telemetry log
// descriptor (_LAMBDA_TELEMETRY_LOG_FD), its newlines kept; only its fallback
// for a plain stdout turns them into \r. Stratus takes the record form, as
// its Python bootstrap does: a message's lines stay together in one write,
// and the tail log reads as Lambda's.
function logText(level, message, ...params) {
  const line = `${new Date().toISOString()}\t${globalThis[REQUEST_ID_SYMBOL]}\t${level.name}\t${util.format(message, ...params)}`;
  writeStdout(line + '\n');
}
function logJson(level, message, ...params) {
  const line = formatJsonMessage(
    globalThis[REQUEST_ID_SYMBOL],
    new Date().toISOString(),
    level,
    globalThis[TENANT_ID_SYMBOL],
    message,
    ...params,
  );
  writeStdout(line.replace(/\n/g, '\r') + '\n');
}

const structuredConsole = {};

function patchConsole() {
  const json = process.env['AWS_LAMBDA_LOG_FORMAT']?.toUpperCase() === 'JSON';
  const log = json ? logJson : logText;
  const levels = Object.freeze({
    TRACE: { name: 'TRACE', priority: 1 },
    DEBUG: { name: 'DEBUG', priority: 2 },
    INFO: { name: 'INFO', priority: 3 },
    WARN: { name: 'WARN', priority: 4 },
    ERROR: { name: 'ERROR', priority: 5 },
    FATAL: { name: 'FATAL', priority: 6 },
  });
  const min = levels[process.env['AWS_LAMBDA_LOG_LEVEL']?.toUpperCase()] ?? levels.TRACE;
  const nop = () => {};
  const at = (level) => (level.priority >= min.priority ? (msg, ...params) => log(level, msg, ...params) : nop);
  // The RIC's console.trace prints no stack, and console.log is console.info.
  console.trace = at(levels.TRACE);
  console.debug = at(levels.DEBUG);
  console.info = at(levels.INFO);
  console.log = console.info;
  console.warn = at(levels.WARN);
  console.error = at(levels.ERROR);
  console.fatal = (msg, ...params) => log(levels.FATAL, msg, ...params);
  // Looked up at call time, as the RIC does: a user's console.error wins.
  structuredConsole.logError = json
    ? (_, err) => console.error(intoError(err))
    : (msg, err) => console.error(msg, toFormatted(intoError(err)));
}

// ---------------------------------------------------------------------------
// Runtime API client (RIC src/RAPIDClient.js + its native curl client)
// ---------------------------------------------------------------------------

const CRLF = Buffer.from('\r\n');
const CRLFCRLF = Buffer.from('\r\n\r\n');
const S_HEAD = 0;
const S_LENGTH = 1;
const S_CHUNKED = 2;
const S_CLOSE = 3;
const NEXT_PATH = '/2018-06-01/runtime/invocation/next';
// Largest POST body sent with a GET next behind it: a server that refuses a
// big body (413) stops reading the connection there.
const PIPELINE_BYTES_MAX = 64 * 1024;

// Requests go one exchange at a time on one keep-alive connection (the RIC
// uses an http.Agent with keepAlive and maxSockets 1). An exchange is one
// request, or a result or error POST with the following GET next in the same
// write (HTTP/1.1 pipelining: the server answers them in order), which saves
// a round trip per invocation. The socket is unref'd while idle so that, as
// with the RIC's native client, only user work keeps the event loop alive
// during an invocation: 'beforeExit' drives the callbackWaitsForEmptyEventLoop
// semantics.
class RapidClient {
  constructor(hostPort) {
    const i = hostPort.lastIndexOf(':');
    let host = hostPort.slice(0, i);
    if (host.startsWith('[')) host = host.slice(1, -1);
    this.host = host || '127.0.0.1';
    this.port = Number(hostPort.slice(i + 1));
    this.hostHeader = `Host: ${hostPort}\r\n`;
    this.sock = null;
    this.inflight = []; // requests written, not yet answered, in order
    this.queue = []; // exchanges waiting for the connection
    this.buf = null;
    this.following = null; // the GET next sent with the last POST
  }

  _make(method, urlPath, extraHeaders, body, resolve, reject) {
    let head = `${method} ${urlPath} HTTP/1.1\r\n${this.hostHeader}${extraHeaders}`;
    if (body !== undefined) head += `Content-Length: ${Buffer.byteLength(body)}\r\n`;
    return { payload: head + '\r\n' + (body ?? ''), resolve, reject, reused: false, retried: false };
  }

  // Resolves to { status, headers (lower-case names), body: Buffer }.
  request(method, urlPath, extraHeaders, body) {
    return new Promise((resolve, reject) => {
      this._start([this._make(method, urlPath, extraHeaders, body, resolve, reject)]);
    });
  }

  // request(), with GET next in the same write: resolves to the POST's
  // answer; the GET's is kept for nextInvocation().
  requestThenNext(method, urlPath, extraHeaders, body) {
    let following;
    const first = new Promise((resolve, reject) => {
      const r = this._make(method, urlPath, extraHeaders, body, resolve, reject);
      following = new Promise((resolve2, reject2) => {
        this._start([r, this._make('GET', NEXT_PATH, '', undefined, resolve2, reject2)]);
      });
    });
    // Settled by whoever waits for it; a rejection nobody waits for (the
    // process exits first) must not count as unhandled.
    following.catch(() => {});
    this.following = following;
    return first;
  }

  _start(exchange) {
    if (this.inflight.length === 0) this._send(exchange);
    else this.queue.push(exchange);
  }

  _send(exchange) {
    let s = this.sock;
    const payload = this._begin(exchange, s !== null);
    if (s === null) s = this._connect();
    else s.ref();
    s.write(payload);
  }

  // Makes `exchange` the one in flight, its requests waiting for their
  // answers' heads, and returns what to write for it.
  _begin(exchange, reused) {
    this.inflight = exchange;
    exchange.forEach((r, i) => {
      r.state = S_HEAD;
      r.gotBytes = false;
      // A pipelined request follows another on the same connection.
      r.reused = reused || i > 0;
    });
    return exchange.length === 1 ? exchange[0].payload : exchange.map((r) => r.payload).join('');
  }

  _connect() {
    const s = netModule().connect(this.port, this.host);
    s.setNoDelay(true);
    s.on('data', (d) => this._onData(d));
    s.on('error', (e) => this._onGone(s, e));
    s.on('close', () => this._onGone(s, null));
    this.sock = s;
    this.buf = null;
    return s;
  }

  _onGone(s, err) {
    if (s !== this.sock) return;
    this.sock = null;
    const r = this.inflight[0];
    if (r === undefined) return;
    if (r.state === S_CLOSE) return this._finish(r, Buffer.concat(r.pieces));
    // A keep-alive connection the server had closed while idle: retry once
    // on a fresh one (nothing of these requests was answered).
    if (r.reused && !r.gotBytes && !r.retried) {
      for (const q of this.inflight) q.retried = true;
      return this._send(this.inflight);
    }
    const e = err ?? Object.assign(new Error('Runtime API closed the connection'), { code: 'ECONNRESET' });
    const failed = this.inflight.concat(...this.queue.splice(0));
    this.inflight = [];
    for (const q of failed) q.reject(e);
  }

  _onData(d) {
    // A chunk may end one response and start the next (pipelining).
    while (d !== null && d.length > 0) {
      const r = this.inflight[0];
      if (r === undefined) return; // nothing asked: ignore
      r.gotBytes = true;
      d = r.state === S_HEAD ? this._head(r, d) : this._body(r, d);
    }
  }

  // Each parser step returns the bytes it did not use, or null.
  _head(r, d) {
    const buf = this.buf === null ? d : Buffer.concat([this.buf, d]);
    const he = buf.indexOf(CRLFCRLF);
    if (he < 0) {
      this.buf = buf;
      return null;
    }
    this.buf = null;
    const lines = buf.toString('latin1', 0, he).split('\r\n');
    const headers = Object.create(null);
    for (let i = 1; i < lines.length; i++) {
      const l = lines[i];
      const c = l.indexOf(':');
      if (c <= 0) continue;
      const k = l.slice(0, c).trim().toLowerCase();
      const v = l.slice(c + 1).trim();
      const prev = headers[k];
      headers[k] = prev === undefined ? v : prev + ', ' + v;
    }
    r.status = Number(lines[0].slice(9, 12));
    r.headers = headers;
    const rest = buf.subarray(he + 4);
    if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
      r.state = S_CHUNKED;
      r.pieces = [];
      r.cbuf = null;
      r.need = 0;
      r.phase = 0; // 0 size line, 1 data, 2 CRLF after data, 3 trailers
    } else if (headers['content-length'] !== undefined || r.status === 204 || r.status === 304) {
      const n = Number(headers['content-length'] ?? 0);
      if (rest.length >= n) return this._finish(r, rest.subarray(0, n)) ? rest.subarray(n) : null;
      r.state = S_LENGTH;
      r.body = Buffer.allocUnsafe(n);
      r.got = 0;
    } else {
      r.state = S_CLOSE;
      r.pieces = [];
    }
    return rest.length > 0 ? this._body(r, rest) : null;
  }

  _body(r, d) {
    if (r.state === S_LENGTH) {
      const n = Math.min(d.length, r.body.length - r.got);
      d.copy(r.body, r.got, 0, n);
      r.got += n;
      if (r.got === r.body.length) return this._finish(r, r.body) ? d.subarray(n) : null;
      return null;
    }
    if (r.state === S_CLOSE) {
      r.pieces.push(d);
      return null;
    }
    return this._chunked(r, d);
  }

  _chunked(r, d) {
    const buf = r.cbuf === null ? d : Buffer.concat([r.cbuf, d]);
    r.cbuf = null;
    let i = 0;
    for (;;) {
      if (r.phase === 1) {
        const take = Math.min(r.need, buf.length - i);
        r.pieces.push(buf.subarray(i, i + take));
        i += take;
        r.need -= take;
        if (r.need > 0) return null;
        r.phase = 2;
      }
      if (r.phase === 2) {
        if (buf.length - i < 2) break;
        i += 2;
        r.phase = 0;
      }
      const le = buf.indexOf(CRLF, i);
      if (le < 0) break;
      if (r.phase === 3) {
        if (le === i) return this._finish(r, Buffer.concat(r.pieces)) ? buf.subarray(le + 2) : null;
        i = le + 2; // a trailer line: ignored
        continue;
      }
      const size = parseInt(buf.toString('latin1', i, le), 16);
      i = le + 2;
      if (size > 0) {
        r.need = size;
        r.phase = 1;
      } else {
        r.phase = 3;
      }
    }
    if (i < buf.length) r.cbuf = buf.subarray(i);
    return null;
  }

  // Settles the first request in flight. Returns whether the connection goes
  // on (more of the chunk belongs to the next answer).
  _finish(r, body) {
    this.inflight.shift();
    const s = this.sock;
    const closing = /close/i.test(r.headers.connection ?? '') || r.state === S_CLOSE;
    if (s !== null && closing) {
      this.sock = null;
      s.destroy();
    }
    r.resolve({ status: r.status, headers: r.headers, body });
    if (this.inflight.length > 0) {
      if (!closing) return true;
      // The server closed the connection after that answer: it never read
      // the rest of the exchange; send it again on a new one.
      this._send(this.inflight);
      return false;
    }
    if (s !== null && !closing) s.unref();
    const q = this.queue.shift();
    if (q !== undefined) this._send(q);
    return false;
  }

  // --- the calls the runtime makes ---

  // Resolves to { bodyJson, headers }. Any failure to reach the Runtime API
  // means Stratus is gone: exit at once and quietly, never outliving it.
  async nextInvocation() {
    let res;
    const following = this.following;
    this.following = null;
    try {
      res = await (following ?? this.request('GET', NEXT_PATH, '', undefined));
    } catch {
      process.exit(0);
    }
    if (res.status !== 200) {
      process.stderr.write(`stratus bootstrap: GET /runtime/invocation/next answered ${res.status}\n`);
      process.exit(1);
    }
    return { bodyJson: res.body.toString('utf8'), headers: res.headers };
  }

  // Like the RIC's: the body is serialised synchronously (so a failure
  // throws into the caller), the HTTP status is not looked at, and
  // `callback` runs once the Runtime API has answered. `thenNext`: the
  // callback goes on to nextInvocation(), so GET next goes out with the POST.
  postInvocationResponse(response, id, callback, thenNext = false) {
    const body = trySerializeResponse(response);
    afterStdout(() => {
      this._post(thenNext)(
        'POST',
        `/2018-06-01/runtime/invocation/${encodeURIComponent(id)}/response`,
        'Content-Type: application/json\r\n',
        body,
      ).then(() => callback(), exitQuietly);
    });
  }

  postInvocationError(error, id, callback, thenNext = false) {
    const body = trySerializeResponse(toRapidResponse(error));
    // The RIC's native client sends no Lambda-Runtime-Function-Error-Type on
    // invocation errors (errorType is in the body), only the X-Ray cause.
    const xray = headerSafe(xrayFormatted(error));
    afterStdout(() => {
      this._post(thenNext)(
        'POST',
        `/2018-06-01/runtime/invocation/${encodeURIComponent(id)}/error`,
        `Content-Type: application/json\r\nLambda-Runtime-Function-XRay-Error-Cause: ${xray}\r\n`,
        body,
      ).then(() => callback(), exitQuietly);
    });
  }

  _post(thenNext) {
    return (method, urlPath, extraHeaders, body) =>
      thenNext && Buffer.byteLength(body) <= PIPELINE_BYTES_MAX
        ? this.requestThenNext(method, urlPath, extraHeaders, body)
        : this.request(method, urlPath, extraHeaders, body);
  }

  postInitError(error, callback) {
    const response = toRapidResponse(error);
    const body = trySerializeResponse(response);
    this.request(
      'POST',
      '/2018-06-01/runtime/init/error',
      `Content-Type: application/json\r\nLambda-Runtime-Function-Error-Type: ${headerSafe(String(response.errorType))}\r\n`,
      body,
    ).then(() => callback(), () => callback());
  }
}

// Loaded only when a TCP connection is needed (see DirectRapidClient).
let net = null;
function netModule() {
  if (net === null) net = require('node:net');
  return net;
}

// The connection Stratus hands its own bootstrap: a descriptor (one end of a
// socket pair; `_STRATUS_RUNTIME_FD`) spoken to with blocking reads and
// writes, so neither `net` (whose modules Node compiles without their code
// cache under the V8 flags Lambda passes: ~8 ms) nor an event-loop turn per
// request is needed. The exchanges are RapidClient's, the answers parsed by
// its parser. A GET next blocks until the next event arrives, so nothing of
// the function runs between invocations: Lambda freezes the sandbox there
// too. An end of file or an error on the descriptor means Stratus is gone:
// what was asked fails, and the runtime exits quietly. Only an answer with
// `Connection: close` (which Stratus does not send) moves the client to TCP
// (AWS_LAMBDA_RUNTIME_API).
// The descriptor in `_STRATUS_RUNTIME_FD` (removed from the environment) when
// it is an open socket; otherwise null, and the client uses TCP.
function handedDescriptor() {
  const fd = Number.parseInt(process.env._STRATUS_RUNTIME_FD ?? '', 10);
  delete process.env._STRATUS_RUNTIME_FD;
  if (!Number.isInteger(fd) || fd < 0) return null;
  try {
    return fs.fstatSync(fd).isSocket() ? fd : null;
  } catch {
    return null;
  }
}

class DirectRapidClient extends RapidClient {
  constructor(hostPort, fd) {
    super(hostPort);
    this.fd = fd;
    this.chunk = Buffer.allocUnsafe(64 * 1024);
    const client = this;
    // Stands for the connection where RapidClient expects a socket.
    this.direct = {
      ref() {},
      unref() {},
      destroy() {
        client.closeDirect();
      },
    };
  }

  closeDirect() {
    if (this.fd < 0) return;
    try {
      fs.closeSync(this.fd);
    } catch {}
    this.fd = -1;
    if (this.sock === this.direct) this.sock = null;
  }

  _send(exchange) {
    if (this.fd < 0) return super._send(exchange);
    this.sock = this.direct;
    const payload = this._begin(exchange, true);
    try {
      writeAllSync(this.fd, payload);
    } catch (e) {
      return this._fail(e);
    }
    // A result with GET next behind it: the result's answer is read now, the
    // wait for the next event after one turn of the event loop, in which
    // timers and I/O that are due run, as they would while the RIC's POST is
    // on its way. Then the wait blocks: Lambda freezes the sandbox there.
    if (exchange.length > 1) {
      this._read(exchange, 1);
      if (exchange.length > 0) setImmediate(() => this._read(exchange, 0));
    } else {
      this._read(exchange, 0);
    }
  }

  // Reads answers until `exchange` has `left` requests unanswered (_finish
  // takes each answered request off it, and may send a queued exchange,
  // which reads its own answers).
  _read(exchange, left) {
    try {
      while (exchange.length > left && this.fd >= 0) {
        const n = readSync(this.fd, this.chunk);
        if (n === 0) throw Object.assign(new Error('Runtime API closed the connection'), { code: 'ECONNRESET' });
        // A copy: the parser keeps pieces of what it is given.
        this._onData(Buffer.from(this.chunk.subarray(0, n)));
      }
    } catch (e) {
      this._fail(e);
    }
  }

  _fail(e) {
    this.closeDirect();
    const failed = this.inflight.concat(...this.queue.splice(0));
    this.inflight = [];
    for (const q of failed) q.reject(e);
  }
}

// Blocking I/O on a descriptor that should block; one that does not (EAGAIN)
// is waited on a millisecond at a time.
const pause = new Int32Array(new SharedArrayBuffer(4));
function blocking(op) {
  for (;;) {
    try {
      return op();
    } catch (e) {
      if (e.code === 'EAGAIN' || e.code === 'EINTR') Atomics.wait(pause, 0, 0, 1);
      else throw e;
    }
  }
}

function readSync(fd, buf) {
  return blocking(() => fs.readSync(fd, buf, 0, buf.length, null));
}

function writeAllSync(fd, text) {
  const buf = Buffer.from(text, 'utf8');
  let off = 0;
  while (off < buf.length) off += blocking(() => fs.writeSync(fd, buf, off, buf.length - off));
}

function exitQuietly() {
  process.exit(0);
}

function trySerializeResponse(body) {
  try {
    return JSON.stringify(body === undefined ? null : body);
  } catch {
    throw new Error('Unable to stringify response body');
  }
}

// Header values must stay on one line and in bytes every server accepts.
function headerSafe(s) {
  return s.replace(/[\r\n]/g, ' ').replace(/[^\x20-\x7e\t]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

// RIC src/XRayError.js: the exception blob X-Ray reads from the error post.
function xrayFormatted(err) {
  try {
    const stack = [];
    if (err.stack) {
      const stackLines = err.stack.split('\n');
      stackLines.shift();
      for (const stackLine of stackLines) {
        let line = stackLine.trim().replace(/\(|\)/g, '');
        line = line.substring(line.indexOf(' ') + 1);
        const label = line.lastIndexOf(' ') >= 0 ? line.slice(0, line.lastIndexOf(' ')) : null;
        let p = label == null || label.length === 0 ? line : line.slice(line.lastIndexOf(' ') + 1);
        p = p.split(':');
        stack.push({ path: p[0], line: parseInt(p[1]), label: label || 'anonymous' });
      }
    }
    return JSON.stringify({
      working_directory: process.cwd(),
      exceptions: [{ type: err.name, message: err.message, stack }],
      paths: Array.from(new Set(stack.map((e) => e.path))),
    });
  } catch {
    return '';
  }
}

// ---------------------------------------------------------------------------
// Loading the handler (RIC src/UserFunction.js)
// ---------------------------------------------------------------------------

const FUNCTION_EXPR = /^([^.]*)\.(.*)$/;
const RELATIVE_PATH_SUBSTRING = '..';
const HANDLER_STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');
const HANDLER_HIGHWATERMARK = Symbol.for('aws.lambda.runtime.handler.streaming.highWaterMark');
const STREAM_RESPONSE = 'response';

// "./somepath/module.nested.fn" -> ["./somepath/", "module.nested.fn"]
function moduleRootAndHandler(fullHandlerString) {
  const handlerString = path.basename(fullHandlerString);
  const moduleRoot = fullHandlerString.substring(0, fullHandlerString.indexOf(handlerString));
  return [moduleRoot, handlerString];
}

function splitHandlerString(handler) {
  const match = handler.match(FUNCTION_EXPR);
  if (!match || match.length != 3) throw new MalformedHandlerName('Bad handler');
  return [match[1], match[2]];
}

function resolveHandler(object, nestedProperty) {
  return nestedProperty.split('.').reduce((nested, key) => nested && nested[key], object);
}

function tryRequireFile(file, extension) {
  const p = file + (extension || '');
  return fs.existsSync(p) ? require(p) : undefined;
}

async function tryAwaitImport(file, extension) {
  const p = file + (extension || '');
  if (fs.existsSync(p)) {
    const offThread = await esmNodePathHook();
    if (!offThread && (extension === '.mjs' || extension === '.js')) {
      const loaded = requireEsm(p);
      if (loaded !== undefined) return loaded;
    }
    return await import(pathToFileURL(p).href);
  }
  return undefined;
}

// Where Node can require() an ES module (20.19+, 22.12+), a handler module
// without top-level await is loaded that way: the same module instance
// import() would give, about 3.5 ms sooner at cold start on Node 20 (import()
// first sets up the asynchronous loader). A graph with top-level await is refused
// before any of it runs, and then goes through import() as in the RIC.
// Hooks registered off-thread (module.register) do not apply to require(),
// so with them import() is used throughout.
function requireEsm(file) {
  if (process.features?.require_module !== true) return undefined;
  const emitWarning = process.emitWarning;
  // Node's own note on require() of an ES module; the module's own warnings still show.
  process.emitWarning = quietExperimental(emitWarning, (w) => String(w?.message ?? w).includes('loading ES Module'));
  try {
    const loaded = require(file);
    // A module exporting the name 'module.exports' makes require() return that value;
    // import() (which then finds the module already evaluated) gives its namespace.
    return util.types.isModuleNamespaceObject(loaded) ? loaded : undefined;
  } catch (e) {
    if (e?.code === 'ERR_REQUIRE_ASYNC_MODULE') return undefined;
    throw e;
  } finally {
    process.emitWarning = emitWarning;
  }
}

// Some versions mark require(esm) and registerHooks as experimental: keep
// their one-off warning (those `ours` picks) off the function's stderr.
function quietExperimental(emitWarning, ours = () => true) {
  return (w, ...rest) => {
    const type = typeof rest[0] === 'string' ? rest[0] : rest[0]?.type;
    if (type !== 'ExperimentalWarning' || !ours(w)) emitWarning.call(process, w, ...rest);
  };
}

// The nearest package.json decides whether .js is ESM; a node_modules folder
// or the root ends the search.
function hasFolderPackageJsonTypeModule(folder) {
  if (folder.endsWith('/node_modules')) return false;
  const pj = path.join(folder, '/package.json');
  if (fs.existsSync(pj)) {
    try {
      const pkg = JSON.parse(fs.readFileSync(pj));
      if (pkg) return pkg.type === 'module';
    } catch (e) {
      console.warn(`${pj} cannot be read, it will be ignored for ES module detection purposes.`, e);
      return false;
    }
  }
  if (folder === '/') return false;
  return hasFolderPackageJsonTypeModule(path.resolve(folder, '..'));
}

const nodeMajor = Number(process.versions.node.split('.')[0]);

// Order as the RIC: extensionless, .js (CommonJS unless "type": "module"),
// then .js as ESM, .mjs, .cjs (and TypeScript files on Node >= 24), then
// Node's own resolution from the code folder.
async function tryRequire(appRoot, moduleRoot, module) {
  const lambdaStylePath = path.resolve(appRoot, moduleRoot, module);
  const supportsTs = nodeMajor >= 24;

  const extensionless = tryRequireFile(lambdaStylePath);
  if (extensionless) return extensionless;

  const pjHasModule = hasFolderPackageJsonTypeModule(path.resolve(path.dirname(lambdaStylePath)));
  if (!pjHasModule) {
    const loaded = tryRequireFile(lambdaStylePath, '.js');
    if (loaded) return loaded;
  }

  const loaded =
    (pjHasModule && (await tryAwaitImport(lambdaStylePath, '.js'))) ||
    (await tryAwaitImport(lambdaStylePath, '.mjs')) ||
    tryRequireFile(lambdaStylePath, '.cjs') ||
    (supportsTs && !pjHasModule && tryRequireFile(lambdaStylePath, '.ts')) ||
    (supportsTs && pjHasModule && (await tryAwaitImport(lambdaStylePath, '.ts'))) ||
    (supportsTs && (await tryAwaitImport(lambdaStylePath, '.mts'))) ||
    (supportsTs && tryRequireFile(lambdaStylePath, '.cts'));
  if (loaded) return loaded;

  const nodeStylePath = require.resolve(module, { paths: [appRoot, moduleRoot] });
  return require(nodeStylePath);
}

async function loadUserApp(appRoot, moduleRoot, module) {
  const noGlobal =
    process.env['AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA'] === '1' ||
    process.env['AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA'] === 'true';
  if (!noGlobal) {
    globalThis.awslambda = {
      streamifyResponse: (handler, options) => {
        handler[HANDLER_STREAMING] = STREAM_RESPONSE;
        if (typeof options?.highWaterMark === 'number') {
          handler[HANDLER_HIGHWATERMARK] = parseInt(options.highWaterMark);
        }
        return handler;
      },
      HttpResponseStream,
    };
  }
  try {
    return await tryRequire(appRoot, moduleRoot, module);
  } catch (e) {
    if (e instanceof SyntaxError) throw new UserCodeSyntaxError(e);
    if (e.code !== undefined && e.code === 'MODULE_NOT_FOUND') throw new ImportModuleError(e);
    throw e;
  }
}

async function loadHandler(appRoot, fullHandlerString) {
  if (fullHandlerString.includes(RELATIVE_PATH_SUBSTRING)) {
    throw new MalformedHandlerName(
      `'${fullHandlerString}' is not a valid handler name. Use absolute paths when specifying root directories in handler names.`,
    );
  }
  const [moduleRoot, moduleAndHandler] = moduleRootAndHandler(fullHandlerString);
  const [module, handlerPath] = splitHandlerString(moduleAndHandler);
  const userApp = await loadUserApp(appRoot, moduleRoot, module);
  const handlerFunc = resolveHandler(userApp, handlerPath);
  if (!handlerFunc) throw new HandlerNotFound(`${fullHandlerString} is undefined or not exported`);
  if (typeof handlerFunc !== 'function') throw new HandlerNotFound(`${fullHandlerString} is not a function`);
  return handlerFunc;
}

function handlerMetadata(handler) {
  let streaming = false;
  const s = handler[HANDLER_STREAMING];
  if (s !== undefined && s !== null && s !== false) {
    if (s !== STREAM_RESPONSE) throw new MalformedStreamingHandler('Only response streaming is supported.');
    streaming = STREAM_RESPONSE;
  }
  let highWaterMark;
  const h = handler[HANDLER_HIGHWATERMARK];
  if (h !== undefined && h !== null && h !== false) {
    const hwm = parseInt(h);
    highWaterMark = isNaN(hwm) ? undefined : hwm;
  }
  let isAsync = false;
  try {
    isAsync = handler.constructor?.name === 'AsyncFunction';
  } catch {
    isAsync = false;
  }
  return { streaming, highWaterMark, isAsync, argsNum: handler.length };
}

// ESM import() ignores NODE_PATH; Stratus relies on it (dependencies, layers,
// the AWS SDK). Registered once, before the first user ESM is imported, and
// only if some NODE_PATH folder exists that ESM would not search anyway (a
// node_modules beside the code or above it): before Node 22.15 the only way
// is module.register, whose loader thread costs some 30-40 ms of cold start.
// Resolves to true when the hook runs off-thread (module.register).
let esmHookDone = false;
let esmHookOffThread = false;
async function esmNodePathHook() {
  if (esmHookDone) return esmHookOffThread;
  esmHookDone = true;
  const dirs = (process.env.NODE_PATH ?? '')
    .split(path.delimiter)
    .filter(Boolean)
    .map((d) => path.resolve(d))
    .filter((d) => fs.existsSync(d));
  const searched = new Set();
  for (let d = path.resolve(process.env.LAMBDA_TASK_ROOT ?? process.cwd()); ; d = path.dirname(d)) {
    searched.add(path.join(d, 'node_modules'));
    if (d === path.dirname(d)) break;
  }
  // All folders are still searched once the hook is on: a package in one of
  // them may import a package that is only in another.
  if (!dirs.some((d) => !searched.has(d))) return false;
  const hooksURL = pathToFileURL(path.join(__dirname, 'node_path_hooks.mjs'));
  if (typeof nodeModule.registerHooks === 'function') {
    const hooks = await import(hooksURL.href);
    hooks.setSearchPath(dirs);
    const emitWarning = process.emitWarning;
    process.emitWarning = quietExperimental(emitWarning);
    try {
      nodeModule.registerHooks({ resolve: hooks.syncResolve });
    } finally {
      process.emitWarning = emitWarning;
    }
  } else if (typeof nodeModule.register === 'function') {
    nodeModule.register(hooksURL.href, { data: { dirs } });
    esmHookOffThread = true;
  }
  return esmHookOffThread;
}

// ---------------------------------------------------------------------------
// Response streaming (RIC src/HttpResponseStream.js, ResponseStream.js,
// StreamingContext.js). Rare, so it uses node:http, loaded on first use, on
// a connection of its own.
// ---------------------------------------------------------------------------

const METADATA_PRELUDE_CONTENT_TYPE = 'application/vnd.awslambda.http-integration-response';

class HttpResponseStream {
  static from(underlyingStream, prelude) {
    underlyingStream.setContentType(METADATA_PRELUDE_CONTENT_TYPE);
    const metadataPrelude = JSON.stringify(prelude);
    underlyingStream._onBeforeFirstWrite = (write) => {
      write(metadataPrelude);
      write(new Uint8Array(8));
    };
    return underlyingStream;
  }
}

let streamHttp = null;
function createResponseStream(client, id, highWaterMark) {
  if (streamHttp === null) {
    const http = require('node:http');
    streamHttp = { http, agent: new http.Agent({ keepAlive: true, maxSockets: 1 }) };
  }
  const { http, agent } = streamHttp;
  let ready = true;
  let resolveDone, rejectDone;
  const responseDone = new Promise((res, rej) => {
    resolveDone = res;
    rejectDone = rej;
  });
  agent.createConnection = (opts, cb) => netModule().createConnection({ ...opts, highWaterMark }, cb);
  const req = http.request(
    {
      method: 'POST',
      hostname: client.host,
      port: client.port,
      path: `/2018-06-01/runtime/invocation/${encodeURIComponent(id)}/response`,
      agent,
      headers: {
        'Lambda-Runtime-Function-Response-Mode': 'streaming',
        Trailer: ['Lambda-Runtime-Function-Error-Type', 'Lambda-Runtime-Function-Error-Body'],
        'Content-Type': 'application/octet-stream',
      },
    },
    (res) => {
      let buf;
      res.on('data', (c) => (buf = buf === undefined ? c : Buffer.concat([buf, c])));
      res.on('aborted', (err) => {
        rejectDone(err);
        req.destroy(err);
      });
      res.on('end', () => resolveDone(buf));
    },
  );
  req.on('error', (err) => {
    rejectDone(err);
    req.destroy(err);
  });
  // The last chunk goes out once earlier output is on the pipe: logs written
  // after the handler ends its stream are not counted in the invocation.
  const origEnd = req.end.bind(req);
  req.end = function (cb) {
    afterStdout(() => origEnd(cb));
  };
  req.setContentType = function (contentType) {
    if (!ready) throw new InvalidStreamingOperation('Cannot set content-type, too late.');
    req.setHeader('Content-Type', contentType);
  };
  const origWrite = req.write.bind(req);
  req.write = function (chunk, encoding, callback) {
    if (typeof chunk !== 'string' && !Buffer.isBuffer(chunk) && chunk?.constructor !== Uint8Array) {
      chunk = JSON.stringify(chunk);
    }
    if (ready && typeof this._onBeforeFirstWrite === 'function') this._onBeforeFirstWrite((ch) => origWrite(ch));
    const ret = origWrite(chunk, encoding, callback);
    ready = false;
    return ret;
  };
  // Only the Writable surface reaches user code, as in the RIC.
  const stream = {};
  for (const fn of [
    'cork', 'destroy', 'end', 'uncork', 'write', 'addListener', 'emit', 'eventNames', 'getMaxListeners',
    'listenerCount', 'listeners', 'off', 'on', 'once', 'prependListener', 'prependOnceListener',
    'rawListeners', 'removeAllListeners', 'removeListener', 'setMaxListeners', 'setContentType',
  ]) {
    stream[fn] = req[fn].bind(req);
  }
  for (const prop of ['destroyed', 'writable', '_onBeforeFirstWrite']) {
    Object.defineProperty(stream, prop, { get: () => req[prop], set: (v) => (req[prop] = v) });
  }
  for (const prop of [
    'writableFinished', 'writableObjectMode', 'writableBuffer', 'writableEnded', 'writableNeedDrain',
    'writableHighWaterMark', 'writableCorked', 'writableLength',
  ]) {
    Object.defineProperty(stream, prop, { get: () => req[prop] });
  }
  const fail = (err, callback) => {
    const error = toRapidResponse(err);
    req.addTrailers({
      'Lambda-Runtime-Function-Error-Type': error.errorType,
      'Lambda-Runtime-Function-Error-Body': Buffer.from(JSON.stringify(error)).toString('base64'),
    });
    req.end(callback);
  };
  return { stream, fail, responseDone };
}

// ---------------------------------------------------------------------------
// Per-invocation context (RIC src/InvokeContext.js, CallbackContext.js,
// BeforeExitListener.js)
// ---------------------------------------------------------------------------

const LISTENER_SYMBOL = Symbol.for('aws.lambda.beforeExit');
const NO_OP_LISTENER = () => {};
const BeforeExitListener = {
  invoke: () => globalThis[LISTENER_SYMBOL](),
  reset: () => (globalThis[LISTENER_SYMBOL] = NO_OP_LISTENER),
  set: (listener) => (globalThis[LISTENER_SYMBOL] = listener),
};

function invokeIdOf(headers) {
  const id = headers['lambda-runtime-aws-request-id'];
  if (!id) require('node:assert').strict.ok(id, 'invocation id is missing or invalid');
  return id;
}

function parseJsonHeader(jsonString, name) {
  // The native client passes these headers only when non-empty.
  if (jsonString === undefined || jsonString === '') return undefined;
  try {
    return JSON.parse(jsonString);
  } catch (err) {
    throw new Error(`Cannot parse ${name} as json: ${err.toString()}`);
  }
}

function attachEnvironmentData(callbackContext, headers) {
  const trace = headers['lambda-runtime-trace-id'];
  if (trace) process.env['_X_AMZN_TRACE_ID'] = trace;
  else delete process.env['_X_AMZN_TRACE_ID'];
  const deadline = Number(headers['lambda-runtime-deadline-ms']) || 0;
  return Object.assign(
    callbackContext,
    {
      functionVersion: process.env['AWS_LAMBDA_FUNCTION_VERSION'],
      functionName: process.env['AWS_LAMBDA_FUNCTION_NAME'],
      memoryLimitInMB: process.env['AWS_LAMBDA_FUNCTION_MEMORY_SIZE'],
      logGroupName: process.env['AWS_LAMBDA_LOG_GROUP_NAME'],
      logStreamName: process.env['AWS_LAMBDA_LOG_STREAM_NAME'],
    },
    {
      clientContext: parseJsonHeader(headers['lambda-runtime-client-context'], 'ClientContext'),
      identity: parseJsonHeader(headers['lambda-runtime-cognito-identity'], 'CognitoIdentity'),
      invokedFunctionArn: headers['lambda-runtime-invoked-function-arn'],
      awsRequestId: headers['lambda-runtime-aws-request-id'],
      tenantId: headers['lambda-runtime-aws-tenant-id'],
      getRemainingTimeInMillis: function () {
        return deadline - Date.now();
      },
    },
  );
}

// Returns [callback, context, markCompleted]; only the first call of any of
// callback/succeed/fail/done counts. Every post here is followed by the next
// invocation (`cb` is always scheduleNext), so GET next goes out with it.
function buildCallbackContext(client, id, scheduleNext) {
  const postError = (err, cb) => {
    structuredConsole.logError('Invoke Error', err);
    client.postInvocationError(err, id, cb, true);
  };
  let isCompleteInvoked = false;
  const complete = (result, cb) => {
    if (isCompleteInvoked) {
      console.error(
        'Invocation has already been reported as done. Cannot call complete more than once per invocation.',
      );
      return;
    }
    isCompleteInvoked = true;
    client.postInvocationResponse(result, id, cb, true);
  };
  let waitForEmptyEventLoop = true;
  const callback = function (err, result) {
    BeforeExitListener.reset();
    if (err !== undefined && err !== null) {
      postError(err, scheduleNext);
    } else if (!waitForEmptyEventLoop) {
      complete(result, scheduleNext);
    } else {
      // Lambda's callback semantics: answer once the event loop is empty.
      BeforeExitListener.set(() => {
        setImmediate(() => complete(result, scheduleNext));
      });
    }
  };
  const done = (err, result) => {
    BeforeExitListener.reset();
    if (err !== undefined && err !== null) postError(err, scheduleNext);
    else complete(result, scheduleNext);
  };
  const succeed = (result) => done(null, result);
  const fail = (err) => (err === undefined || err === null ? done('handled') : done(err, null));

  let finished = false;
  const onlyAllowFirstCall = (toWrap) =>
    function () {
      if (!finished) {
        toWrap.apply(null, arguments);
        finished = true;
      }
    };
  const context = {
    get callbackWaitsForEmptyEventLoop() {
      return waitForEmptyEventLoop;
    },
    set callbackWaitsForEmptyEventLoop(value) {
      waitForEmptyEventLoop = value;
    },
    succeed: onlyAllowFirstCall(succeed),
    fail: onlyAllowFirstCall(fail),
    done: onlyAllowFirstCall(done),
  };
  return [onlyAllowFirstCall(callback), context, () => (isCompleteInvoked = true)];
}

function buildStreamingContext(client, id, scheduleNext, highWaterMark) {
  let waitForEmptyEventLoop = true;
  const scheduleNextNow = () => {
    if (!waitForEmptyEventLoop) scheduleNext();
    else BeforeExitListener.set(() => setImmediate(() => scheduleNext()));
  };
  let isStreamCreated = false;
  return {
    get callbackWaitsForEmptyEventLoop() {
      return waitForEmptyEventLoop;
    },
    set callbackWaitsForEmptyEventLoop(value) {
      waitForEmptyEventLoop = value;
    },
    createStream: () => {
      if (isStreamCreated) {
        throw new InvalidStreamingOperation('Cannot create stream for the same StreamingContext more than once.');
      }
      const { stream, fail, responseDone } = createResponseStream(client, id, highWaterMark);
      isStreamCreated = true;
      return {
        fail: (err, cb) => {
          structuredConsole.logError('Invoke Error', err);
          fail(err, cb);
        },
        responseStream: stream,
        rapidResponse: responseDone,
        scheduleNext: () => {
          BeforeExitListener.reset();
          scheduleNextNow();
        },
      };
    },
  };
}

// ---------------------------------------------------------------------------
// The invoke loop (RIC src/Runtime.js)
// ---------------------------------------------------------------------------

function isPromise(obj) {
  return obj && obj.then && typeof obj.then === 'function';
}

class Runtime {
  constructor(client, handler, metadata, errorCallbacks) {
    this.client = client;
    this.handler = handler;
    this.metadata = metadata;
    this.errorCallbacks = errorCallbacks;
    this.handleOnce = metadata.streaming === STREAM_RESPONSE ? this.handleOnceStreaming : this.handleOnceNonStreaming;
    this.scheduleIteration = this.scheduleIteration.bind(this);
  }

  scheduleIteration() {
    setImmediate(() => {
      this.handleOnce().then(
        () => {},
        (err) => {
          console.log(`Unexpected Top Level Error: ${err.toString()}`);
          this.errorCallbacks.uncaughtException(err);
        },
      );
    });
  }

  async handleOnceNonStreaming() {
    const { bodyJson, headers } = await this.client.nextInvocation();
    const invokeId = invokeIdOf(headers);
    setCurrentRequestId(invokeId);
    setCurrentTenantId(headers['lambda-runtime-aws-tenant-id']);
    const [callback, callbackContext, markCompleted] = buildCallbackContext(this.client, invokeId, this.scheduleIteration);
    try {
      this.setErrorCallbacks(invokeId);
      this.setDefaultExitListener(invokeId, markCompleted, this.metadata.isAsync);
      const result = this.handler(JSON.parse(bodyJson), attachEnvironmentData(callbackContext, headers), callback);
      // A promise settles the invocation; a plain return value is ignored
      // (the callback, or an empty event loop, ends the invocation).
      if (isPromise(result)) result.then(callbackContext.succeed, callbackContext.fail).catch(callbackContext.fail);
    } catch (err) {
      callback(err);
    }
  }

  async handleOnceStreaming() {
    const { bodyJson, headers } = await this.client.nextInvocation();
    const invokeId = invokeIdOf(headers);
    setCurrentRequestId(invokeId);
    setCurrentTenantId(headers['lambda-runtime-aws-tenant-id']);
    const streamingContext = buildStreamingContext(this.client, invokeId, this.scheduleIteration, this.metadata.highWaterMark);
    const { responseStream, rapidResponse, scheduleNext, fail: ctxFail } = streamingContext.createStream();
    delete streamingContext.createStream;
    try {
      this.setErrorCallbacks(invokeId);
      BeforeExitListener.set(() => this.scheduleIteration());
      const ctx = attachEnvironmentData(streamingContext, headers);
      const handlerResult = this.handler(JSON.parse(bodyJson), responseStream, ctx);
      if (!isPromise(handlerResult)) {
        ctxFail('Streaming does not support non-async handlers.', scheduleNext);
        return;
      }
      const result = await handlerResult;
      if (typeof result !== 'undefined') console.warn('Streaming handlers ignore return values.');
      if (rapidResponse) await rapidResponse;
      if (!responseStream.writableFinished) {
        ctxFail('Response stream is not finished.', scheduleNext);
        return;
      }
      scheduleNext();
    } catch (err) {
      ctxFail(err, scheduleNext);
    }
  }

  setErrorCallbacks(invokeId) {
    this.errorCallbacks.uncaughtException = (error) => {
      this.client.postInvocationError(error, invokeId, () => process.exit(129));
    };
    this.errorCallbacks.unhandledRejection = (error) => {
      this.client.postInvocationError(error, invokeId, () => process.exit(128));
    };
  }

  // The event loop emptied before the handler finished: an async handler
  // fails with Runtime.NodeJsExit, any other answers null.
  setDefaultExitListener(invokeId, markCompleted, isAsync) {
    BeforeExitListener.set(() => {
      markCompleted();
      if (isAsync) {
        const err = new NodeJsExit();
        structuredConsole.logError('Invoke Error', err);
        this.client.postInvocationError(err, invokeId, () => this.scheduleIteration(), true);
      } else {
        this.client.postInvocationResponse(null, invokeId, () => this.scheduleIteration(), true);
      }
    });
  }
}

// ---------------------------------------------------------------------------
// Start (RIC src/index.mjs)
// ---------------------------------------------------------------------------

async function run(appRoot, handlerString) {
  patchConsole();
  const api = process.env.AWS_LAMBDA_RUNTIME_API ?? '127.0.0.1:9001';
  // Stratus's own variable, not Lambda's: kept from the function's code.
  const fd = handedDescriptor();
  const client = fd === null ? new RapidClient(api) : new DirectRapidClient(api, fd);

  // Until the first invocation, a crash is an init error.
  const errorCallbacks = {
    uncaughtException: (error) => client.postInitError(error, () => process.exit(129)),
    unhandledRejection: (error) => client.postInitError(error, () => process.exit(128)),
  };
  process.on('uncaughtException', (error) => {
    structuredConsole.logError('Uncaught Exception', error);
    errorCallbacks.uncaughtException(error);
  });
  process.on('unhandledRejection', (reason, promise) => {
    const error = new UnhandledPromiseRejection(reason, promise);
    structuredConsole.logError('Unhandled Promise Rejection', error);
    errorCallbacks.unhandledRejection(error);
  });
  BeforeExitListener.reset();
  process.on('beforeExit', BeforeExitListener.invoke);

  // A load failure rejects this (top-level awaited) promise; Node hands that
  // to the 'uncaughtException' listener above: logged, posted to
  // /runtime/init/error, exit 129, as on AWS.
  const handlerFunc = await loadHandler(appRoot, handlerString);
  const metadata = handlerMetadata(handlerFunc);
  if (
    process.env.AWS_LAMBDA_NODEJS_DISABLE_CALLBACK_WARNING === undefined &&
    metadata.argsNum == 3 &&
    metadata.isAsync == false &&
    metadata.streaming == false
  ) {
    console.warn(
      'AWS Lambda plans to remove support for callback-based function handlers starting with Node.js 24. You will need to update this function to use an async handler to use Node.js 24 or later. For more information and to provide feedback on this change, see https://github.com/aws/aws-lambda-nodejs-runtime-interface-client/issues/137. To disable this warning, set the AWS_LAMBDA_NODEJS_DISABLE_CALLBACK_WARNING environment variable.',
    );
  }
  new Runtime(client, handlerFunc, metadata, errorCallbacks).scheduleIteration();
}

// The RIC's `await run(...)` at the top of its ES module, in CommonJS.
let initSettled = false;
run(process.env.LAMBDA_TASK_ROOT ?? process.cwd(), process.env._HANDLER ?? '').then(
  () => (initSettled = true),
  (error) => {
    initSettled = true;
    // A rejected top-level await is an uncaught exception (logged, posted to
    // /runtime/init/error, exit 129 by the listener run() installed).
    if (process.listenerCount('uncaughtException') > 0) process.emit('uncaughtException', error, 'unhandledRejection');
    else
      setImmediate(() => {
        throw error;
      });
  },
);
// A top-level await still pending when the event loop empties (a handler
// module whose own top-level await never settles) ends Node with code 13,
// silently.
process.once('beforeExit', () => {
  if (!initSettled) process.exit(13);
});
