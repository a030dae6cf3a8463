/**
 * Tests for bootstrap.cjs, Stratus's Node.js runtime interface client.
 *
 * Run: node --test crates/lambda/runtimes/node/test_bootstrap.mjs
 * (node:test only, no npm packages). Each test starts a fake Lambda Runtime
 * API on 127.0.0.1 port 0, writes a handler folder under the OS temp dir,
 * runs `node bootstrap.cjs` against it and checks the exact bodies and
 * headers the bootstrap posts, its stdout and its exit. Every wait is
 * bounded; every child is killed by PID when its test ends.
 */

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const BOOTSTRAP = path.join(HERE, 'bootstrap.cjs');
const WAIT_MS = 10_000;
const RAPI = '/2018-06-01/runtime';
const LOG_LINE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\t/;

const children = new Set();
const tempDirs = [];
after(() => {
  for (const c of children) killChild(c);
  for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
});

function killChild(child) {
  if (child.exitCode === null && child.signalCode === null) {
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  children.delete(child);
}

function withTimeout(promise, what, ms = WAIT_MS) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

// A folder of files: { 'index.js': '...', 'package.json': '...' }.
function makeDir(files) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stratus-node-'));
  tempDirs.push(dir);
  for (const [name, text] of Object.entries(files)) {
    const file = path.join(dir, name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
  }
  return fs.realpathSync(dir);
}

// The Lambda Runtime API, as far as the bootstrap uses it.
class FakeRuntimeApi {
  constructor() {
    this.queue = []; // events not yet handed out
    this.parked = []; // GET next responses waiting for an event
    this.posts = [];
    this.postWaiters = [];
    this.nextWaiters = [];
    this.nextCount = 0;
  }

  async start() {
    this.connections = 0;
    this.server = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => this.onRequest(req, res, Buffer.concat(chunks).toString('utf8')));
    });
    this.server.on('connection', () => this.connections++);
    await new Promise((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.address = `127.0.0.1:${this.server.address().port}`;
    return this;
  }

  // Carries a bootstrap's handed connection (see startBootstrap's `direct`)
  // to this server, both ways, on one connection of its own.
  relay(end) {
    const [host, port] = this.address.split(':');
    const c = net.connect(Number(port), host);
    end.pipe(c);
    c.pipe(end);
    const close = () => {
      end.destroy();
      c.destroy();
    };
    end.on('error', close);
    c.on('error', close);
    c.on('close', close);
    end.on('close', close);
  }

  onRequest(req, res, body) {
    if (req.method === 'GET' && req.url === `${RAPI}/invocation/next`) {
      if (this.dropNextGet) {
        // A keep-alive connection that dies under a request, unanswered.
        this.dropNextGet = false;
        this.dropped = (this.dropped ?? 0) + 1;
        req.socket.destroy();
        return;
      }
      this.nextCount++;
      this.parked.push(res);
      for (const w of this.nextWaiters.splice(0)) w();
      this.pump();
      return;
    }
    if (req.method === 'POST') {
      let json;
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
      // The bootstrap's stdout as it was when the post ended.
      const stdout = this.stdoutNow?.();
      const post = { url: req.url, headers: req.headers, trailers: req.trailers, body, json, stdout };
      this.posts.push(post);
      if (this.closeAfterPost) req.socket.closing = true;
      res.writeHead(202, { 'Content-Type': 'application/json', ...(this.closeAfterPost ? { Connection: 'close' } : {}) });
      res.end('{"status":"OK"}');
      this.postWaiters = this.postWaiters.filter((w) => !(w.pred(post) && (w.resolve(post), true)));
      return;
    }
    res.writeHead(404);
    res.end();
  }

  pump() {
    // A GET pipelined behind a Connection: close answer is parsed by node:http
    // but dies with the connection (a server must not answer it): skip it.
    this.parked = this.parked.filter((res) => res.socket && !res.socket.destroyed && !res.socket.closing);
    while (this.queue.length > 0 && this.parked.length > 0) {
      const { id, body, headers } = this.queue.shift();
      const res = this.parked.shift();
      res.writeHead(200, {
        'Content-Type': 'application/json',
        'Lambda-Runtime-Aws-Request-Id': id,
        'Lambda-Runtime-Deadline-Ms': String(Date.now() + 30_000),
        'Lambda-Runtime-Invoked-Function-Arn': 'arn:aws:lambda:us-east-1:123456789012:function:fn',
        ...headers,
      });
      res.end(body);
    }
  }

  waitPost(pred, what) {
    const found = this.posts.find(pred);
    if (found) return Promise.resolve(found);
    return withTimeout(new Promise((resolve) => this.postWaiters.push({ pred, resolve })), what);
  }

  // Queues one invoke; resolves to the /response or /error posted for it.
  invoke(event, { id = randomUUID(), headers = {}, raw } = {}) {
    this.queue.push({ id, body: raw ?? JSON.stringify(event), headers });
    this.pump();
    const prefix = `${RAPI}/invocation/${encodeURIComponent(id)}/`;
    return this.waitPost((p) => p.url.startsWith(prefix), `the result of invoke ${id}`).then((p) => ({
      ...p,
      id,
      kind: p.url.slice(prefix.length),
    }));
  }

  initError() {
    return this.waitPost((p) => p.url === `${RAPI}/init/error`, 'POST /runtime/init/error');
  }

  // Resolves once the bootstrap has `n` GET next requests in total.
  waitNext(n = 1) {
    const check = (resolve) => (this.nextCount >= n ? resolve() : this.nextWaiters.push(() => check(resolve)));
    return withTimeout(new Promise(check), `GET next #${n}`);
  }

  async close() {
    for (const res of this.parked.splice(0)) res.destroy();
    this.server.closeAllConnections?.();
    await new Promise((resolve) => this.server.close(() => resolve()));
  }
}

// `direct`: the bootstrap gets fd 3, one end of a socket pair (Node's
// stdio 'pipe': blocking in the child, as the end Stratus hands it), with
// _STRATUS_RUNTIME_FD; this process relays the other end to a connection to
// the API (see FakeRuntimeApi.relay).
function startBootstrap(api, taskRoot, handler, env = {}, direct = false) {
  const stdoutFile = path.join(makeDir({}), 'stdout');
  const stdoutFd = fs.openSync(stdoutFile, 'w');
  const child = spawn(process.execPath, [BOOTSTRAP], {
    cwd: taskRoot,
    // Built from scratch so the test runner's own NODE_PATH etc. stay out.
    env: {
      PATH: process.env.PATH,
      AWS_LAMBDA_RUNTIME_API: api.address,
      _HANDLER: handler,
      LAMBDA_TASK_ROOT: taskRoot,
      AWS_LAMBDA_FUNCTION_NAME: 'fn',
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
      AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/fn',
      AWS_LAMBDA_LOG_STREAM_NAME: '2024/01/01/[$LATEST]0123456789abcdef',
      AWS_REGION: 'us-east-1',
      TZ: 'UTC',
      ...(direct ? { _STRATUS_RUNTIME_FD: '3' } : {}),
      ...env,
    },
    // stdout is a file, read as it is at each look: what the bootstrap wrote
    // before it posted a result is there when the post arrives (see posts'
    // `stdout`), as Stratus reads its pipe when a result arrives.
    stdio: direct ? ['ignore', stdoutFd, 'pipe', 'pipe'] : ['ignore', stdoutFd, 'pipe'],
  });
  fs.closeSync(stdoutFd);
  if (direct) api.relay(child.stdio[3]);
  children.add(child);
  const proc = { child, stderr: '' };
  Object.defineProperty(proc, 'stdout', { get: () => fs.readFileSync(stdoutFile, 'utf8') });
  api.stdoutNow = () => proc.stdout;
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => (proc.stderr += d));
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  proc.exited = () => withTimeout(exited, 'the bootstrap to exit');
  proc.lines = () => proc.stdout.split('\n').filter((l) => l !== '');
  return proc;
}

// One fake API + one bootstrap per test, torn down whatever happens.
async function withFunction(files, handler, env, body) {
  const api = await new FakeRuntimeApi().start();
  const dir = typeof files === 'string' ? files : makeDir(files);
  const proc = startBootstrap(api, dir, handler, env);
  try {
    return await body(api, proc, dir);
  } catch (e) {
    e.message += `\n--- bootstrap stdout ---\n${proc.stdout}\n--- bootstrap stderr ---\n${proc.stderr}`;
    throw e;
  } finally {
    killChild(proc.child);
    await api.close();
  }
}

// ---------------------------------------------------------------------------
// Results
// ---------------------------------------------------------------------------

test('async handler: result posted as JSON to /response', async () => {
  const files = { 'index.js': 'exports.handler = async (event) => ({ got: event, n: 1 });' };
  await withFunction(files, 'index.handler', {}, async (api) => {
    const r = await api.invoke({ a: [1, 'x'] });
    assert.equal(r.kind, 'response');
    assert.equal(r.body, '{"got":{"a":[1,"x"]},"n":1}');
    assert.equal(r.headers['content-type'], 'application/json');
    assert.equal(r.headers['lambda-runtime-function-error-type'], undefined);
    // The loop goes on: a second invoke on the same process.
    const r2 = await api.invoke('second');
    assert.equal(r2.body, '{"got":"second","n":1}');
  });
});

test('callback handler: callback(null, result) is posted; the RIC callback warning is logged at init', async () => {
  const files = { 'index.js': 'exports.handler = (event, context, callback) => { callback(null, { ok: event.v }); };' };
  await withFunction(files, 'index.handler', {}, async (api, proc) => {
    const r = await api.invoke({ v: 7 });
    assert.equal(r.kind, 'response');
    assert.equal(r.body, '{"ok":7}');
    const warn = proc.lines().find((l) => l.includes('\tWARN\t'));
    assert.ok(warn, 'a WARN line');
    assert.match(warn, /^\S+\tundefined\tWARN\tAWS Lambda plans to remove support for callback-based function handlers starting with Node\.js 24\./);
  });
});

test('callback waits for an empty event loop before the response (callbackWaitsForEmptyEventLoop)', async () => {
  const files = {
    'index.js': `exports.handler = (event, context, callback) => {
      setTimeout(() => console.log('late timer'), 50);
      callback(null, 'done');
    };`,
  };
  await withFunction(files, 'index.handler', { AWS_LAMBDA_NODEJS_DISABLE_CALLBACK_WARNING: '1' }, async (api, proc) => {
    const r = await api.invoke({}, { id: 'cb-wait' });
    assert.equal(r.body, '"done"');
    assert.ok(r.stdout.includes('late timer'), 'timer output precedes the result');
  });
});

test('callbackWaitsForEmptyEventLoop = false answers at once', async () => {
  const files = {
    'index.js': `exports.handler = (event, context, callback) => {
      context.callbackWaitsForEmptyEventLoop = false;
      const t = setTimeout(() => {}, 60_000);
      callback(null, { waited: false });
    };`,
  };
  await withFunction(files, 'index.handler', { AWS_LAMBDA_NODEJS_DISABLE_CALLBACK_WARNING: '1' }, async (api) => {
    const r = await withTimeout(api.invoke({}), 'an answer that does not wait for the 60 s timer', 5000);
    assert.equal(r.body, '{"waited":false}');
  });
});

test('undefined result is posted as null; a sync handler return value is ignored (null), as in the RIC', async () => {
  const files = {
    'index.js': `exports.asyncUndef = async () => undefined;
      exports.syncValue = (event) => ({ ignored: true });`,
  };
  await withFunction(files, 'index.asyncUndef', {}, async (api) => {
    const r = await api.invoke({});
    assert.equal(r.kind, 'response');
    assert.equal(r.body, 'null');
  });
  await withFunction(files, 'index.syncValue', {}, async (api) => {
    const r = await api.invoke({});
    assert.equal(r.kind, 'response');
    assert.equal(r.body, 'null');
  });
});

test('nested handler path in a sub-folder (src/app.handlers.main)', async () => {
  const files = { 'src/app.js': 'exports.handlers = { main: async () => "nested" };' };
  await withFunction(files, 'src/app.handlers.main', {}, async (api) => {
    const r = await api.invoke({});
    assert.equal(r.body, '"nested"');
  });
});

// ---------------------------------------------------------------------------
// Invocation errors
// ---------------------------------------------------------------------------

test('thrown Error: /error body, headers and the Invoke Error log line', async () => {
  const files = {
    'index.js': `exports.handler = async () => { const e = new TypeError('boom'); e.code = 'E_BOOM'; throw e; };`,
  };
  await withFunction(files, 'index.handler', {}, async (api, proc) => {
    const r = await api.invoke({}, { id: 'err-1' });
    assert.equal(r.kind, 'error');
    assert.deepEqual(Object.keys(r.json), ['errorType', 'errorMessage', 'trace']);
    assert.equal(r.json.errorType, 'TypeError');
    assert.equal(r.json.errorMessage, 'boom');
    assert.equal(r.json.trace[0], 'TypeError: boom');
    assert.match(r.json.trace[1], /^ {4}at .*index\.js:1:/);
    assert.equal(r.headers['content-type'], 'application/json');
    // The RIC's native client sets no error-type header on invocation errors.
    assert.equal(r.headers['lambda-runtime-function-error-type'], undefined);
    const xray = JSON.parse(r.headers['lambda-runtime-function-xray-error-cause']);
    assert.equal(xray.exceptions[0].type, 'TypeError');
    assert.equal(xray.exceptions[0].message, 'boom');
    const line = r.stdout.split('\n').find((l) => l.includes('Invoke Error'));
    const m = /^(\S+)\terr-1\tERROR\tInvoke Error \t(\{.*\})$/.exec(line);
    assert.ok(m, `log line format: ${JSON.stringify(line)}`);
    assert.match(m[1], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const logged = JSON.parse(m[2]);
    assert.equal(logged.errorType, 'TypeError');
    assert.equal(logged.errorMessage, 'boom');
    assert.equal(logged.code, 'E_BOOM');
    assert.equal(logged.stack[0], 'TypeError: boom');
  });
});

test('thrown non-Error values and callback(err)', async () => {
  const files = {
    'index.js': `exports.str = () => { throw 'oops'; };
      exports.cb = (e, c, cb) => cb(new RangeError('bad range'));
      exports.rejectNull = async () => { throw null; };`,
  };
  const env = { AWS_LAMBDA_NODEJS_DISABLE_CALLBACK_WARNING: '1' };
  await withFunction(files, 'index.str', env, async (api) => {
    const r = await api.invoke({});
    assert.equal(r.kind, 'error');
    assert.equal(r.body, '{"errorType":"string","errorMessage":"oops","trace":[]}');
  });
  await withFunction(files, 'index.cb', env, async (api) => {
    const r = await api.invoke({});
    assert.equal(r.json.errorType, 'RangeError');
    assert.equal(r.json.errorMessage, 'bad range');
  });
  // fail(null) reports the string 'handled', as the RIC does.
  await withFunction(files, 'index.rejectNull', env, async (api) => {
    const r = await api.invoke({});
    assert.equal(r.body, '{"errorType":"string","errorMessage":"handled","trace":[]}');
  });
});

test('unserialisable result: Error "Unable to stringify response body"', async () => {
  const files = { 'index.js': 'exports.handler = async () => ({ n: 1n });' };
  await withFunction(files, 'index.handler', {}, async (api) => {
    const r = await api.invoke({});
    assert.equal(r.kind, 'error');
    assert.equal(r.json.errorType, 'Error');
    assert.equal(r.json.errorMessage, 'Unable to stringify response body');
  });
});

test('async handler whose promise never settles: Runtime.NodeJsExit when the loop empties', async () => {
  const files = { 'index.js': 'exports.handler = async () => new Promise(() => {});' };
  await withFunction(files, 'index.handler', {}, async (api) => {
    const r = await api.invoke({});
    assert.equal(r.kind, 'error');
    assert.equal(r.json.errorType, 'Runtime.NodeJsExit');
    assert.match(r.json.errorMessage, /^The Lambda runtime client detected an unexpected Node\.js exit code\./);
  });
});

test('unhandled rejection during an invoke: Runtime.UnhandledPromiseRejection, exit 128', async () => {
  const files = {
    'index.js': `exports.handler = async () => { Promise.reject(new Error('lost')); await new Promise((r) => setTimeout(r, 1000)); return 'late'; };`,
  };
  await withFunction(files, 'index.handler', {}, async (api, proc) => {
    const r = await api.invoke({}, { id: 'rej-1' });
    assert.equal(r.kind, 'error');
    assert.equal(r.json.errorType, 'Runtime.UnhandledPromiseRejection');
    assert.equal(r.json.errorMessage, 'Error: lost');
    assert.deepEqual(await proc.exited(), { code: 128, signal: null });
    assert.match(proc.stdout, /\trej-1\tERROR\tUnhandled Promise Rejection \t\{"errorType":"Runtime\.UnhandledPromiseRejection","errorMessage":"Error: lost","reason":\{"errorType":"Error","errorMessage":"lost",/);
  });
});

test('uncaught exception during an invoke: posted as its error, exit 129', async () => {
  const files = {
    'index.js': `exports.handler = async () => { setTimeout(() => { throw new SyntaxError('in timer'); }, 5); return new Promise(() => {}); };`,
  };
  await withFunction(files, 'index.handler', {}, async (api, proc) => {
    const r = await api.invoke({}, { id: 'unc-1' });
    assert.equal(r.kind, 'error');
    assert.equal(r.json.errorType, 'SyntaxError');
    assert.equal(r.json.errorMessage, 'in timer');
    assert.deepEqual(await proc.exited(), { code: 129, signal: null });
    assert.match(proc.stdout, /\tunc-1\tERROR\tUncaught Exception \t\{"errorType":"SyntaxError","errorMessage":"in timer","stack":\[/);
    assert.ok(r.stdout.includes('Uncaught Exception'), 'logged before the error is posted');
  });
});

// ---------------------------------------------------------------------------
// Init errors
// ---------------------------------------------------------------------------

async function expectInitError(files, handler, errorType, checkMessage, env = {}) {
  await withFunction(files, handler, env, async (api, proc) => {
    const p = await api.initError();
    assert.deepEqual(Object.keys(p.json), ['errorType', 'errorMessage', 'trace']);
    assert.equal(p.json.errorType, errorType);
    checkMessage(p.json.errorMessage, p.json.trace);
    assert.equal(p.headers['lambda-runtime-function-error-type'], errorType);
    assert.equal(p.headers['content-type'], 'application/json');
    assert.deepEqual(await proc.exited(), { code: 129, signal: null });
    assert.equal(api.nextCount, 0, 'no GET next after an init error');
    const line = proc.lines().find((l) => l.includes('Uncaught Exception'));
    const m = /^\S+\tundefined\tERROR\tUncaught Exception \t(\{.*\})$/.exec(line);
    assert.ok(m, `log line format: ${JSON.stringify(line)}`);
    assert.equal(JSON.parse(m[1]).errorType, errorType);
  });
}

test('init error: Runtime.MalformedHandlerName', async () => {
  await expectInitError({ 'index.js': '' }, 'index', 'Runtime.MalformedHandlerName', (msg, trace) => {
    assert.equal(msg, 'Bad handler');
    assert.equal(trace[0], 'Runtime.MalformedHandlerName: Bad handler');
  });
  await expectInitError({ 'index.js': '' }, '../index.handler', 'Runtime.MalformedHandlerName', (msg) => {
    assert.equal(
      msg,
      "'../index.handler' is not a valid handler name. Use absolute paths when specifying root directories in handler names.",
    );
  });
});

test('init error: Runtime.ImportModuleError (missing module, missing dependency)', async () => {
  await expectInitError({ 'other.js': '' }, 'index.handler', 'Runtime.ImportModuleError', (msg, trace) => {
    assert.equal(msg, `Error: Cannot find module 'index'\nRequire stack:\n- ${BOOTSTRAP}`);
    assert.deepEqual(trace.slice(0, 3), [
      "Runtime.ImportModuleError: Error: Cannot find module 'index'",
      'Require stack:',
      `- ${BOOTSTRAP}`,
    ]);
  });
  await expectInitError(
    { 'index.js': "require('not-installed-anywhere'); exports.handler = async () => 1;" },
    'index.handler',
    'Runtime.ImportModuleError',
    (msg) => assert.match(msg, /^Error: Cannot find module 'not-installed-anywhere'\nRequire stack:\n- .*index\.js\n- /),
  );
});

test('init error: Runtime.HandlerNotFound', async () => {
  await expectInitError({ 'index.js': 'exports.other = 1;' }, 'index.handler', 'Runtime.HandlerNotFound', (msg) =>
    assert.equal(msg, 'index.handler is undefined or not exported'),
  );
  await expectInitError({ 'index.js': 'exports.handler = 42;' }, 'index.handler', 'Runtime.HandlerNotFound', (msg) =>
    assert.equal(msg, 'index.handler is not a function'),
  );
});

test('init error: Runtime.UserCodeSyntaxError (CJS and ESM)', async () => {
  await expectInitError({ 'index.js': 'exports.handler = async () => {;' }, 'index.handler', 'Runtime.UserCodeSyntaxError', (msg, trace) => {
    assert.match(msg, /^SyntaxError: /);
    assert.equal(trace[0], `Runtime.UserCodeSyntaxError: ${msg.split('\n')[0]}`);
  });
  await expectInitError({ 'index.mjs': 'export const handler = async () => {;' }, 'index.handler', 'Runtime.UserCodeSyntaxError', (msg) =>
    assert.match(msg, /^SyntaxError: /),
  );
});

test('init error: ESM import of a missing package is a plain Error (the RIC only wraps MODULE_NOT_FOUND)', async () => {
  await expectInitError({ 'index.mjs': "import 'nope-not-here'; export const handler = async () => 1;" }, 'index.handler', 'Error', (msg, trace) => {
    assert.match(msg, /^Cannot find package 'nope-not-here' imported from .*index\.mjs$/);
    assert.match(trace[0], /^Error \[ERR_MODULE_NOT_FOUND\]: Cannot find package 'nope-not-here'/);
  });
});

test('init error: an exception thrown by module code keeps its own type', async () => {
  await expectInitError({ 'index.js': "throw new RangeError('at init');" }, 'index.handler', 'RangeError', (msg) =>
    assert.equal(msg, 'at init'),
  );
});

// ---------------------------------------------------------------------------
// Module kinds
// ---------------------------------------------------------------------------

test('ESM handlers: .mjs, and .js under "type": "module"; .cjs; extension order .js before .mjs', async () => {
  await withFunction({ 'app.mjs': 'export const handler = async () => "mjs";' }, 'app.handler', {}, async (api) => {
    assert.equal((await api.invoke({})).body, '"mjs"');
  });
  const typeModule = {
    'package.json': '{"type":"module"}',
    'app.js': 'export const handler = async () => (typeof require === "undefined" ? "esm" : "cjs");',
  };
  await withFunction(typeModule, 'app.handler', {}, async (api) => {
    assert.equal((await api.invoke({})).body, '"esm"');
  });
  await withFunction({ 'app.cjs': 'exports.handler = async () => "cjs";' }, 'app.handler', {}, async (api) => {
    assert.equal((await api.invoke({})).body, '"cjs"');
  });
  const both = { 'app.js': 'exports.handler = async () => "js";', 'app.mjs': 'export const handler = async () => "mjs";' };
  await withFunction(both, 'app.handler', {}, async (api) => {
    assert.equal((await api.invoke({})).body, '"js"');
  });
});

test('ESM handlers with and without top-level await: module code runs once, import.meta intact, no warning', async () => {
  // Where Node can require() ES modules the bootstrap loads them that way,
  // and through import() when the graph has top-level await.
  const files = {
    'dep.mjs': 'console.log("dep ran");\nawait Promise.resolve();\nexport const n = 2;',
    'tla.mjs': 'import { n } from "./dep.mjs";\nconsole.log("tla ran");\nexport const handler = async () => [n, import.meta.url.endsWith("/tla.mjs")];',
    'plain.mjs':
      'console.log("plain ran");\nexport default 1;\nexport const handler = async () => [typeof require, import.meta.url.endsWith("/plain.mjs")];',
  };
  await withFunction(files, 'tla.handler', {}, async (api, proc) => {
    assert.equal((await api.invoke({})).body, '[2,true]');
    assert.equal(proc.stdout.match(/dep ran/g)?.length, 1, proc.stdout);
    assert.equal(proc.stdout.match(/tla ran/g)?.length, 1, proc.stdout);
    assert.equal(proc.stderr, '');
  });
  await withFunction(files, 'plain.handler', {}, async (api, proc) => {
    assert.equal((await api.invoke({})).body, '["undefined",true]');
    assert.equal(proc.stdout.match(/plain ran/g)?.length, 1, proc.stdout);
    assert.equal(proc.stderr, '');
  });
  // A module exporting the name 'module.exports' still resolves as import() sees it, runs
  // once, and its own experimental warning is not hidden.
  const odd = {
    'odd.mjs': `console.log("odd ran");
      process.emitWarning("from the module", "ExperimentalWarning");
      const other = { handler: async () => "other" };
      export { other as 'module.exports' };
      export const handler = async () => "namespace";`,
  };
  await withFunction(odd, 'odd.handler', {}, async (api, proc) => {
    const r = await api.invoke({});
    assert.equal(r.body, '"namespace"');
    assert.equal(proc.stdout.match(/odd ran/g)?.length, 1, proc.stdout);
    // Printed through the patched console, as the RIC prints process warnings.
    assert.ok(r.stdout.includes('ExperimentalWarning: from the module'), r.stdout);
  });
});

// ---------------------------------------------------------------------------
// Context and invoke headers
// ---------------------------------------------------------------------------

test('context fields, client context, identity, remaining time and _X_AMZN_TRACE_ID', async () => {
  const files = {
    'index.js': `exports.handler = async (event, context) => ({
      keys: Object.keys(context),
      awsRequestId: context.awsRequestId,
      functionName: context.functionName,
      functionVersion: context.functionVersion,
      invokedFunctionArn: context.invokedFunctionArn,
      memoryLimitInMB: context.memoryLimitInMB,
      logGroupName: context.logGroupName,
      logStreamName: context.logStreamName,
      identity: context.identity,
      clientContext: context.clientContext,
      remaining: context.getRemainingTimeInMillis(),
      waits: context.callbackWaitsForEmptyEventLoop,
      legacy: [typeof context.done, typeof context.succeed, typeof context.fail],
      trace: process.env._X_AMZN_TRACE_ID ?? null,
    });`,
  };
  const trace = 'Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1';
  await withFunction(files, 'index.handler', {}, async (api) => {
    const r = await api.invoke(
      {},
      {
        id: 'ctx-1',
        headers: {
          'Lambda-Runtime-Deadline-Ms': String(Date.now() + 5000),
          'Lambda-Runtime-Invoked-Function-Arn': 'arn:aws:lambda:us-east-1:123456789012:function:fn:live',
          'Lambda-Runtime-Trace-Id': trace,
          'Lambda-Runtime-Client-Context': '{"custom":{"k":"v"},"env":{"platform":"x"}}',
          'Lambda-Runtime-Cognito-Identity': '{"cognitoIdentityId":"id-1","cognitoIdentityPoolId":"pool-1"}',
        },
      },
    );
    const c = r.json;
    assert.deepEqual(c.keys, [
      'callbackWaitsForEmptyEventLoop', 'succeed', 'fail', 'done', 'functionVersion', 'functionName',
      'memoryLimitInMB', 'logGroupName', 'logStreamName', 'clientContext', 'identity', 'invokedFunctionArn',
      'awsRequestId', 'tenantId', 'getRemainingTimeInMillis',
    ]);
    assert.equal(c.awsRequestId, 'ctx-1');
    assert.equal(c.functionName, 'fn');
    assert.equal(c.functionVersion, '$LATEST');
    assert.equal(c.invokedFunctionArn, 'arn:aws:lambda:us-east-1:123456789012:function:fn:live');
    assert.equal(c.memoryLimitInMB, '256'); // a string, as in the RIC
    assert.equal(c.logGroupName, '/aws/lambda/fn');
    assert.equal(c.logStreamName, '2024/01/01/[$LATEST]0123456789abcdef');
    assert.deepEqual(c.identity, { cognitoIdentityId: 'id-1', cognitoIdentityPoolId: 'pool-1' });
    assert.deepEqual(c.clientContext, { custom: { k: 'v' }, env: { platform: 'x' } });
    assert.ok(c.remaining > 0 && c.remaining <= 5000, `remaining ${c.remaining}`);
    assert.equal(c.waits, true);
    assert.deepEqual(c.legacy, ['function', 'function', 'function']);
    assert.equal(c.trace, trace);
    // Without the optional headers: no identity/client context, trace var removed.
    const r2 = await api.invoke({}, { id: 'ctx-2' });
    assert.equal(r2.json.identity, undefined);
    assert.equal(r2.json.clientContext, undefined);
    assert.equal(r2.json.trace, null);
  });
});

test('legacy context.succeed / context.fail / context.done', async () => {
  const files = {
    'index.js': `exports.s = (e, c) => c.succeed({ via: 'succeed' });
      exports.f = (e, c) => c.fail(new Error('via fail'));
      exports.d = (e, c) => { c.done(null, 'first'); c.done(null, 'second'); };`,
  };
  await withFunction(files, 'index.s', {}, async (api) => assert.equal((await api.invoke({})).body, '{"via":"succeed"}'));
  await withFunction(files, 'index.f', {}, async (api) => assert.equal((await api.invoke({})).json.errorMessage, 'via fail'));
  await withFunction(files, 'index.d', {}, async (api) => assert.equal((await api.invoke({})).body, '"first"'));
});

test('malformed Client-Context header fails the invoke, as in the RIC', async () => {
  const files = { 'index.js': 'exports.handler = async () => 1;' };
  await withFunction(files, 'index.handler', {}, async (api) => {
    const r = await api.invoke({}, { headers: { 'Lambda-Runtime-Client-Context': '{nope' } });
    assert.equal(r.kind, 'error');
    assert.match(r.json.errorMessage, /^Cannot parse ClientContext as json: SyntaxError: /);
  });
});

// ---------------------------------------------------------------------------
// Console format, and output before results
// ---------------------------------------------------------------------------

test('console format per level, util.format semantics, newlines kept; all output before the result', async () => {
  const files = {
    'index.js': `console.log('at init');
      exports.handler = async () => {
        console.log('a %s %d', 'b', 42, { k: 1 });
        console.info('info');
        console.warn('warn');
        console.error('error', new Error('E').message);
        console.debug('debug');
        console.trace('trace');
        console.log('two\\nlines');
        process.stdout.write('raw stdout write\\n');
        return 'ok';
      };`,
  };
  await withFunction(files, 'index.handler', {}, async (api, proc) => {
    const r = await api.invoke({}, { id: 'log-1' });
    assert.equal(r.body, '"ok"');
    const lines = r.stdout.split('\n').filter((l) => l !== '');
    const strip = (l) => l.replace(LOG_LINE, '');
    assert.ok(lines.every((l) => LOG_LINE.test(l) || l === 'raw stdout write' || l === 'lines'), lines.join('\n'));
    assert.deepEqual(lines.map((l) => (LOG_LINE.test(l) ? strip(l) : l)), [
      'undefined\tINFO\tat init',
      "log-1\tINFO\ta b 42 { k: 1 }",
      'log-1\tINFO\tinfo',
      'log-1\tWARN\twarn',
      'log-1\tERROR\terror E',
      'log-1\tDEBUG\tdebug',
      'log-1\tTRACE\ttrace',
      'log-1\tINFO\ttwo',
      'lines',
      'raw stdout write',
    ]);
    assert.equal(proc.stderr, '');
  });
});

test('each invocation\'s output is on stdout before its result is posted, and nothing else is', async () => {
  const files = { 'index.js': 'exports.handler = async (e) => { console.log("in", e.n); return e.n; };' };
  await withFunction(files, 'index.handler', {}, async (api) => {
    const a = await api.invoke({ n: 1 }, { id: 'a' });
    const b = await api.invoke({ n: 2 }, { id: 'b' });
    const strip = (out) => out.split('\n').filter((l) => l !== '').map((l) => l.replace(LOG_LINE, ''));
    assert.deepEqual(strip(a.stdout), ['a\tINFO\tin 1']);
    assert.deepEqual(strip(b.stdout), ['a\tINFO\tin 1', 'b\tINFO\tin 2']);
  });
});

test('AWS_LAMBDA_LOG_FORMAT=JSON and AWS_LAMBDA_LOG_LEVEL', async () => {
  const files = {
    'index.js': `exports.handler = async () => { console.debug('hidden'); console.info('x %d', 1); console.error(new Error('bad')); throw new Error('thrown'); };`,
  };
  const env = { AWS_LAMBDA_LOG_FORMAT: 'JSON', AWS_LAMBDA_LOG_LEVEL: 'INFO' };
  await withFunction(files, 'index.handler', env, async (api, proc) => {
    const r = await api.invoke({}, { id: 'json-1' });
    const recs = r.stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));
    assert.equal(recs.length, 3);
    assert.deepEqual({ ...recs[0], timestamp: 0 }, { timestamp: 0, level: 'INFO', requestId: 'json-1', message: 'x 1' });
    assert.equal(recs[1].level, 'ERROR');
    assert.equal(recs[1].message.errorType, 'Error');
    assert.equal(recs[1].message.errorMessage, 'bad');
    assert.equal(recs[2].message.errorMessage, 'thrown');
  });
});

// ---------------------------------------------------------------------------
// Response streaming (awslambda.streamifyResponse)
// ---------------------------------------------------------------------------

test('streaming handler: chunked POST in streaming mode, content type, HttpResponseStream prelude', async () => {
  const files = {
    'index.mjs': `export const plain = awslambda.streamifyResponse(async (event, responseStream, context) => {
        responseStream.setContentType('text/plain');
        responseStream.write('hello ');
        await new Promise((r) => setTimeout(r, 10));
        responseStream.write(context.awsRequestId);
        responseStream.end();
      });
      export const http = awslambda.streamifyResponse(async (event, responseStream) => {
        const s = awslambda.HttpResponseStream.from(responseStream, { statusCode: 201, headers: { a: 'b' } });
        s.write('body');
        s.end();
      });
      export const broken = awslambda.streamifyResponse(async (event, responseStream) => {
        responseStream.write('partial');
        throw new Error('mid-stream');
      });`,
  };
  await withFunction(files, 'index.plain', {}, async (api, proc) => {
    const r = await api.invoke({}, { id: 'st-1' });
    assert.equal(r.kind, 'response');
    assert.equal(r.headers['lambda-runtime-function-response-mode'], 'streaming');
    assert.equal(r.headers['transfer-encoding'], 'chunked');
    assert.equal(r.headers['content-type'], 'text/plain');
    assert.equal(r.body, 'hello st-1');
    assert.equal((await api.invoke({}, { id: 'st-2' })).body, 'hello st-2');
  });
  await withFunction(files, 'index.http', {}, async (api) => {
    const r = await api.invoke({});
    assert.equal(r.headers['content-type'], 'application/vnd.awslambda.http-integration-response');
    assert.equal(r.body, '{"statusCode":201,"headers":{"a":"b"}}' + '\0'.repeat(8) + 'body');
  });
  await withFunction(files, 'index.broken', {}, async (api) => {
    const r = await api.invoke({});
    assert.equal(r.body, 'partial');
    assert.equal(r.trailers['lambda-runtime-function-error-type'], 'Error');
    const err = JSON.parse(Buffer.from(r.trailers['lambda-runtime-function-error-body'], 'base64').toString());
    assert.equal(err.errorMessage, 'mid-stream');
  });
});

// ---------------------------------------------------------------------------
// NODE_PATH
// ---------------------------------------------------------------------------

function nodePathFolders() {
  // One NODE_PATH folder named node_modules (a layer's nodejs/node_modules)
  // and one that is not.
  const layer = makeDir({
    'nodejs/node_modules/dual-pkg/package.json': JSON.stringify({
      name: 'dual-pkg',
      exports: { import: './index.mjs', require: './index.cjs' },
    }),
    'nodejs/node_modules/dual-pkg/index.mjs': 'export const kind = "esm-build";',
    'nodejs/node_modules/dual-pkg/index.cjs': 'exports.kind = "cjs-build";',
  });
  const plain = makeDir({
    'plain-pkg/package.json': '{"name":"plain-pkg","main":"main.js"}',
    'plain-pkg/main.js': 'exports.hello = "from plain folder";',
  });
  return [path.join(layer, 'nodejs/node_modules'), plain].join(path.delimiter);
}

test('NODE_PATH: CommonJS require finds packages in NODE_PATH folders', async () => {
  const files = {
    'index.js': `const d = require('dual-pkg'); const p = require('plain-pkg');
      exports.handler = async () => [d.kind, p.hello];`,
  };
  await withFunction(files, 'index.handler', { NODE_PATH: nodePathFolders() }, async (api) => {
    assert.equal((await api.invoke({})).body, '["cjs-build","from plain folder"]');
  });
});

test('NODE_PATH: ESM import finds packages in NODE_PATH folders (import condition kept)', async () => {
  const files = {
    'index.mjs': `import { kind } from 'dual-pkg'; import plain from 'plain-pkg';
      const later = await import('dual-pkg');
      export const handler = async () => [kind, plain.hello, later.kind];`,
  };
  await withFunction(files, 'index.handler', { NODE_PATH: nodePathFolders() }, async (api, proc) => {
    const r = await api.invoke({});
    assert.equal(r.body, '["esm-build","from plain folder","esm-build"]');
    assert.equal(proc.stderr, '');
  });
});

test('NODE_PATH: a package missing everywhere still fails with the original message', async () => {
  await expectInitError(
    { 'index.mjs': "import 'missing-pkg'; export const handler = async () => 1;" },
    'index.handler',
    'Error',
    (msg) => assert.match(msg, /^Cannot find package 'missing-pkg' imported from .*index\.mjs$/),
    { NODE_PATH: nodePathFolders() },
  );
});

// ---------------------------------------------------------------------------
// The descriptor Stratus hands its bootstrap (_STRATUS_RUNTIME_FD)
// ---------------------------------------------------------------------------

async function withDirectFunction(files, handler, env, body) {
  const api = await new FakeRuntimeApi().start();
  const proc = startBootstrap(api, makeDir(files), handler, env, true);
  try {
    return await body(api, proc);
  } catch (e) {
    e.message += `\n--- bootstrap stdout ---\n${proc.stdout}\n--- bootstrap stderr ---\n${proc.stderr}`;
    throw e;
  } finally {
    killChild(proc.child);
    await api.close();
  }
}

test('direct: invocations go over the handed descriptor, without net and without a connection of its own', async () => {
  const files = {
    'index.js': `exports.handler = async (e) => ({
      e,
      net: process.moduleLoadList.includes('NativeModule net'),
      fdVar: process.env._STRATUS_RUNTIME_FD ?? null,
      // The descriptor blocks (no EAGAIN polling): O_NONBLOCK (04000) is not
      // among fd 3's flags.
      blocking: (parseInt(/flags:\\s*(\\d+)/.exec(require('node:fs').readFileSync('/proc/self/fdinfo/3', 'utf8'))[1], 8) & 0o4000) === 0,
    });`,
  };
  await withDirectFunction(files, 'index.handler', {}, async (api) => {
    const r = await api.invoke({ n: 1 });
    assert.equal(r.kind, 'response');
    assert.deepEqual(JSON.parse(r.body), { e: { n: 1 }, net: false, fdVar: null, blocking: true });
    const big = 'x'.repeat(300_000);
    const r2 = await api.invoke({ big });
    assert.equal(JSON.parse(r2.body).e.big.length, big.length);
    assert.equal(api.connections, 1, 'only the handed connection');
  });
});

test('direct: nothing runs between invocations (frozen, as Lambda freezes the sandbox); due timers run after the result', async () => {
  const files = {
    'index.js': `exports.handler = async (e) => {
      if (e.later) setTimeout(() => console.log('timer fired'), e.later);
      if (e.soon) setImmediate(() => console.log('immediate ran'));
      if (e.sleep) await new Promise((r) => setTimeout(r, e.sleep));
      return 'ok';
    };`,
  };
  await withDirectFunction(files, 'index.handler', {}, async (api, proc) => {
    await api.invoke({ later: 100, soon: true });
    await api.waitNext(2);
    await new Promise((r) => setTimeout(r, 400));
    assert.ok(proc.stdout.includes('immediate ran'), 'work due right after the result runs');
    assert.ok(!proc.stdout.includes('timer fired'), 'a timer must not fire while waiting for the next event');
    const r = await api.invoke({ sleep: 50 }, { id: 'second' });
    assert.equal(r.body, '"ok"');
    assert.ok(r.stdout.includes('timer fired'), 'the timer fires in the next invocation');
  });
});

test('direct: a value that names no open socket means TCP', async () => {
  // fd 987 is not open and fd 0 is no socket: both leave the bootstrap on AWS_LAMBDA_RUNTIME_API.
  for (const value of ['987', '0']) {
    const api = await new FakeRuntimeApi().start();
    const files = { 'index.js': 'exports.handler = async () => process.env._STRATUS_RUNTIME_FD ?? null;' };
    const proc = startBootstrap(api, makeDir(files), 'index.handler', { _STRATUS_RUNTIME_FD: value });
    try {
      const r = await api.invoke({});
      assert.equal(r.kind, 'response', `${value}: ${proc.stderr}`);
      assert.equal(r.body, 'null');
      assert.equal(api.connections, 1);
    } finally {
      killChild(proc.child);
      await api.close();
    }
  }
});

test('direct: errors and init errors are posted over the descriptor', async () => {
  await withDirectFunction({ 'index.js': 'exports.handler = async () => { throw new TypeError("bad"); };' }, 'index.handler', {}, async (api) => {
    const r = await api.invoke({});
    assert.equal(r.kind, 'error');
    assert.equal(r.json.errorType, 'TypeError');
  });
  const api = await new FakeRuntimeApi().start();
  const proc = startBootstrap(api, makeDir({ 'index.js': 'exports.other = 1;' }), 'index.handler', {}, true);
  try {
    const post = await api.waitPost((p) => p.url.endsWith('/init/error'));
    assert.equal(post.json.errorType, 'Runtime.HandlerNotFound');
    assert.equal((await proc.exited()).code, 129);
    assert.equal(api.connections, 1, 'only the relayed connection');
  } finally {
    killChild(proc.child);
    await api.close();
  }
});

test('direct: exits quietly when the Runtime API goes away', async () => {
  const api = await new FakeRuntimeApi().start();
  const proc = startBootstrap(api, makeDir({ 'index.js': 'exports.handler = async () => 1;' }), 'index.handler', {}, true);
  try {
    await api.invoke({});
    await api.waitNext(2);
    await api.close();
    assert.deepEqual(await proc.exited(), { code: 0, signal: null });
    assert.equal(proc.stderr, '');
  } finally {
    killChild(proc.child);
  }
});

// ---------------------------------------------------------------------------
// Lifecycle
// ---------------------------------------------------------------------------

test('exits quietly when the Runtime API goes away', async () => {
  const files = { 'index.js': 'exports.handler = async () => 1;' };
  const api = await new FakeRuntimeApi().start();
  const proc = startBootstrap(api, makeDir(files), 'index.handler');
  try {
    await api.invoke({});
    await api.waitNext(2); // parked in the long poll
    await api.close();
    assert.deepEqual(await proc.exited(), { code: 0, signal: null });
    assert.ok(!proc.stdout.includes('ERROR'), proc.stdout);
    assert.equal(proc.stderr, '');
  } finally {
    killChild(proc.child);
  }
});

test('exits quietly when the Runtime API is not there at all', async () => {
  const api = await new FakeRuntimeApi().start();
  const address = api.address;
  await api.close();
  const proc = startBootstrap({ address }, makeDir({ 'index.js': 'exports.handler = async () => 1;' }), 'index.handler');
  try {
    assert.deepEqual(await proc.exited(), { code: 0, signal: null });
    assert.equal(proc.stderr, '');
  } finally {
    killChild(proc.child);
  }
});

test('a reused keep-alive connection that dies unanswered is retried once on a new one', async () => {
  const files = { 'index.js': 'exports.handler = async (e) => e;' };
  await withFunction(files, 'index.handler', {}, async (api, proc) => {
    api.dropNextGet = false;
    assert.equal((await api.invoke(1)).body, '1');
    await api.waitNext(2);
    // The parked GET #2 is answered by invoke(2); the GET after it is dropped.
    api.dropNextGet = true;
    assert.equal((await api.invoke(2)).body, '2');
    assert.equal((await api.invoke(3)).body, '3');
    assert.equal(api.dropped, 1);
    assert.equal(proc.child.exitCode, null);
  });
});

test('a response with Connection: close is read and the next request reconnects', async () => {
  const files = { 'index.js': 'exports.handler = async (e) => e;' };
  await withFunction(files, 'index.handler', {}, async (api) => {
    api.closeAfterPost = true;
    assert.equal((await api.invoke('a')).body, '"a"');
    assert.equal((await api.invoke('b')).body, '"b"');
  });
});

test('GET next goes out in the same write as the result (pipelining), answers read in order', async () => {
  // A raw server: it sees the GET before it answers the POST.
  let conn;
  let data = '';
  let waiter = null;
  const server = net.createServer((c) => {
    conn = c;
    c.setEncoding('latin1');
    c.on('data', (d) => {
      data += d;
      if (waiter !== null && waiter.pred()) {
        const w = waiter;
        waiter = null;
        w.resolve();
      }
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const until = (pred, what) =>
    pred() ? Promise.resolve() : withTimeout(new Promise((resolve) => (waiter = { pred, resolve })), what);
  const next = `GET ${RAPI}/invocation/next HTTP/1.1\r\n`;
  const event = (n) => {
    const body = JSON.stringify({ n });
    return (
      'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n' +
      `Lambda-Runtime-Aws-Request-Id: r${n}\r\nLambda-Runtime-Deadline-Ms: ${Date.now() + 60_000}\r\n` +
      `Content-Length: ${body.length}\r\n\r\n${body}`
    );
  };
  const accepted = 'HTTP/1.1 202 Accepted\r\nContent-Length: 15\r\n\r\n{"status":"OK"}';
  const dir = makeDir({ 'index.js': 'exports.handler = async (e) => e;' });
  const proc = startBootstrap({ address: `127.0.0.1:${server.address().port}` }, dir, 'index.handler');
  try {
    await until(() => data.includes('\r\n\r\n'), 'the first GET next');
    assert.ok(data.startsWith(next));
    data = '';
    conn.write(event(1));
    await until(() => data.includes(next), 'GET next behind the first result');
    assert.ok(data.startsWith(`POST ${RAPI}/invocation/r1/response HTTP/1.1\r\n`), data);
    assert.ok(data.indexOf('{"n":1}') < data.indexOf(next));
    data = '';
    // The 202 and the next event in one write: both are read.
    conn.write(accepted + event(2));
    await until(() => data.includes(next), 'GET next behind the second result');
    assert.ok(data.startsWith(`POST ${RAPI}/invocation/r2/response HTTP/1.1\r\n`), data);
    assert.ok(data.includes('{"n":2}'));
    assert.equal(proc.child.exitCode, null);
  } finally {
    killChild(proc.child);
    conn?.destroy();
    await new Promise((resolve) => server.close(() => resolve()));
  }
});

test('a handler module whose top-level await never settles ends the process with code 13, as under the RIC', async () => {
  const files = { 'index.mjs': 'await new Promise(() => {});\nexport const handler = async () => 1;' };
  await withFunction(files, 'index.handler', {}, async (api, proc) => {
    assert.deepEqual(await proc.exited(), { code: 13, signal: null });
    assert.equal(api.nextCount, 0);
    assert.equal(proc.stderr, '');
  });
});
