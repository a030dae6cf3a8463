// Trivial handlers for bench/lambda.sh.
const HELLO = { statusCode: 200, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ ok: true }) };

// Invoke API benchmark: the smallest possible handler.
export const handler = async () => ({ ok: true });

// Gateway benchmark (REST API, payload 1.0): a proxy-integration response.
export const hello = async () => HELLO;
