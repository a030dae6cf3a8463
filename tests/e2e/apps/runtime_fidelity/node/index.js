// Node.js (CommonJS) handlers for test_lambda_runtime_fidelity.py.
class MyCustomError extends Error {}
class NamedError extends Error {
  constructor(message) {
    super(message);
    this.name = 'NamedError';
  }
}

exports.customError = async () => {
  throw new MyCustomError('custom node boom');
};
exports.namedError = async () => {
  throw new NamedError('named node boom');
};
exports.throwString = async () => {
  throw 'a plain string';
};
exports.throwObject = async () => {
  throw { code: 42, reason: 'object thrown' };
};
exports.syncThrowString = (event, context, callback) => {
  throw 'sync string';
};
exports.reject = () => Promise.reject(new RangeError('rejected on purpose'));
exports.rejectUndefined = () => Promise.reject(undefined);
exports.cbError = (event, context, callback) => {
  callback(new TypeError('callback error'));
};
exports.cbResult = (event, context, callback) => {
  const started = Date.now();
  setTimeout(() => {}, 700);
  callback(null, { ok: true, started });
};
exports.cbNoWait = (event, context, callback) => {
  context.callbackWaitsForEmptyEventLoop = false;
  setTimeout(() => {}, 3000);
  callback(null, { ok: 'nowait' });
};
exports.succeed = (event, context) => {
  context.succeed({ via: 'succeed' });
};
exports.fail = (event, context) => {
  context.fail(new Error('failed via context'));
};
exports.failEmpty = (event, context) => {
  context.fail();
};
exports.done = (event, context) => {
  if (event.err) context.done(new Error('done with error'));
  else context.done(null, { via: 'done' });
};
exports.returnsUndefined = async () => undefined;
exports.syncReturn = (event, context) => ({ ignored: true });
exports.consoleLevels = async (event, context) => {
  console.log('log line');
  console.info('info line');
  console.warn('warn line');
  console.error('error line');
  console.debug('debug line');
  console.log('multi\nline');
  console.log('fmt %s %d', 'x', 5);
  return context.awsRequestId;
};
exports.lateReject = async (event) => {
  if (event.late) {
    setTimeout(() => Promise.reject(new Error('late rejection')), 200);
  }
  if (event.sleepMs) await new Promise((r) => setTimeout(r, event.sleepMs));
  return { pid: process.pid };
};
exports.remaining = async (event, context) => {
  const first = context.getRemainingTimeInMillis();
  await new Promise((r) => setTimeout(r, 300));
  return { first, second: context.getRemainingTimeInMillis() };
};
exports.notAFunction = 'just a string';
exports.asyncPendingTimer = async () => {
  setTimeout(() => {}, 3000);
  return { ok: 'async' };
};
// The sockets this process holds, by kind (from /proc/net/*), and whether
// Stratus's descriptor variable is visible to the function.
exports.connections = async () => {
  const fs = require('node:fs');
  const inodes = (table, column) => {
    try {
      return new Set(fs.readFileSync(`/proc/net/${table}`, 'utf8').split('\n').slice(1)
        .map((row) => row.trim().split(/\s+/)[column]).filter(Boolean));
    } catch {
      return new Set();
    }
  };
  const unix = inodes('unix', 6);
  const tcp = new Set([...inodes('tcp', 9), ...inodes('tcp6', 9)]);
  const held = [];
  for (const name of fs.readdirSync('/proc/self/fd')) {
    let target;
    try {
      target = fs.readlinkSync(`/proc/self/fd/${name}`);
    } catch {
      continue;
    }
    const m = /^socket:\[(\d+)\]$/.exec(target);
    if (m) held.push(unix.has(m[1]) ? 'unix' : tcp.has(m[1]) ? 'tcp' : 'other');
  }
  return { sockets: held.sort(), fd_var: '_STRATUS_RUNTIME_FD' in process.env };
};
exports.jsonLogs = async () => {
  console.debug('debug line');
  console.info('info line');
  return { format: process.env.AWS_LAMBDA_LOG_FORMAT ?? null, level: process.env.AWS_LAMBDA_LOG_LEVEL ?? null };
};
