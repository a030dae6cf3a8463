// Lambda authorizers for the gateway end-to-end tests. Each call appends one JSON line
// {"authorizer", "event"} to $CALLS_FILE, so a test can count calls (caching) and read the events.
// The behaviour comes from the token (or X-User header): "<behaviour>-<unique suffix>".
const fs = require("node:fs");

function record(name, event) {
  if (process.env.CALLS_FILE) {
    fs.appendFileSync(process.env.CALLS_FILE, JSON.stringify({ authorizer: name, event }) + "\n");
  }
}

function behaviour(token) {
  return String(token || "").replace(/^Bearer /, "").split("-")[0];
}

function policy(principalId, effect, resource, context) {
  return {
    principalId,
    policyDocument: {
      Version: "2012-10-17",
      Statement: [{ Action: "execute-api:Invoke", Effect: effect, Resource: resource }],
    },
    context,
  };
}

// arn:aws:execute-api:REGION:ACCOUNT:API/STAGE/METHOD/path → the same API and stage, another route.
function elsewhere(arn) {
  const [prefix] = arn.split("/");
  const stage = arn.split("/")[1];
  return `${prefix}/${stage}/POST/somewhere/else`;
}

function wildcard(arn) {
  const [prefix] = arn.split("/");
  return `${prefix}/*/GET/*`;
}

// REST TOKEN authorizer (and HTTP API payload 1.0 / 2.0 policy authorizers: same answers).
function decide(name, event, token, arn) {
  record(name, event);
  const context = { tenant: "t1", count: 2, flag: true, token };
  switch (behaviour(token)) {
    case "allow":
      return policy("user-allow", "Allow", arn, context);
    case "deny":
      return policy("user-deny", "Deny", arn, context);
    case "other":
      return policy("user-other", "Allow", elsewhere(arn), context);
    case "wild":
      return policy("user-wild", "Allow", wildcard(arn), context);
    case "unauthorized":
      throw new Error("Unauthorized");
    case "garbage":
      return { nothing: "useful" };
    default:
      throw new Error("the authorizer crashed on purpose");
  }
}

exports.token = async (event) => decide("token", event, event.authorizationToken, event.methodArn);

exports.policyV2 = async (event) =>
  decide("policyV2", event, (event.headers || {}).authorization, event.routeArn);

exports.policyV1 = async (event) => {
  const headers = event.headers || {};
  return decide("policyV1", event, headers.authorization || headers.Authorization, event.methodArn);
};

// REST REQUEST authorizer: X-User "alice-…" is allowed, anyone else is denied.
exports.request = async (event) => {
  record("request", event);
  const headers = event.headers || {};
  const user = headers["X-User"] || headers["x-user"] || "";
  const tenant = (event.queryStringParameters || {}).tenant || "";
  const effect = behaviour(user) === "alice" ? "Allow" : "Deny";
  return policy(`user-${user}`, effect, event.methodArn, { user, tenant });
};

// HTTP API payload 2.0 authorizer with simple responses.
exports.simple = async (event) => {
  record("simple", event);
  const token = (event.headers || {}).authorization;
  switch (behaviour(token)) {
    case "allow":
      return { isAuthorized: true, context: { user: "u1", n: 5, token } };
    case "deny":
      return { isAuthorized: false, context: { user: "u1" } };
    case "unauthorized":
      throw new Error("Unauthorized");
    default:
      throw new Error("the authorizer crashed on purpose");
  }
};
