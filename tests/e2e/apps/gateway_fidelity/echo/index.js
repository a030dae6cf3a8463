// Handlers for the gateway end-to-end tests (CommonJS, no dependencies: Node starts fast).
// The same file is in every apps/gateway*/echo/ folder.

// Answers with the event it received, so a test can check it field by field; the
// X-Echo-Function header says which function (so which route) answered.
exports.echo = async (event, context) => ({
  statusCode: 200,
  headers: { "Content-Type": "application/json", "X-Echo-Function": context.functionName },
  body: JSON.stringify(event),
});

// An unhandled error: API Gateway answers with its own error, never the function's.
exports.fail = async () => {
  throw new Error("the handler failed on purpose");
};

// Answers after `?ms=` milliseconds (default 3000), for integration timeouts.
exports.slow = async (event) => {
  const ms = Number((event.queryStringParameters || {}).ms || 3000);
  await new Promise((resolve) => setTimeout(resolve, ms));
  return { statusCode: 200, body: `slept ${ms} ms` };
};

// Sets CORS headers of its own, to see what the gateway does with them.
exports.ownCors = async () => ({
  statusCode: 200,
  headers: {
    "Content-Type": "application/json",
    "Access-Control-Allow-Origin": "https://own.example",
    "Access-Control-Allow-Methods": "PUT",
  },
  body: "{}",
});
