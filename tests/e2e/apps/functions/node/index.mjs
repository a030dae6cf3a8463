// Node.js handlers of the Lambda e2e suite (ES module).
import { getHeapStatistics } from 'node:v8';

const KEYS = [
  '_HANDLER', '_X_AMZN_TRACE_ID', 'AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_EXECUTION_ENV',
  'AWS_LAMBDA_FUNCTION_NAME', 'AWS_LAMBDA_FUNCTION_MEMORY_SIZE', 'AWS_LAMBDA_FUNCTION_VERSION',
  'AWS_LAMBDA_LOG_GROUP_NAME', 'AWS_LAMBDA_LOG_STREAM_NAME', 'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_LAMBDA_RUNTIME_API', 'LAMBDA_TASK_ROOT',
  'TZ', 'AWS_ENDPOINT_URL', 'GREETING', 'NODE_PATH',
];

export const info = async (event, context) => {
  console.log('node info handler running');
  const env = {};
  for (const key of KEYS) env[key] = process.env[key] ?? null;
  return {
    pid: process.pid,
    cwd: process.cwd(),
    gc: typeof globalThis.gc,
    heapLimitMb: getHeapStatistics().heap_size_limit / 1048576,
    event,
    env,
    context: {
      awsRequestId: context.awsRequestId,
      functionName: context.functionName,
      functionVersion: context.functionVersion,
      memoryLimitInMB: context.memoryLimitInMB,
      invokedFunctionArn: context.invokedFunctionArn,
      logGroupName: context.logGroupName,
      logStreamName: context.logStreamName,
      remainingMs: context.getRemainingTimeInMillis(),
      clientContext: context.clientContext ?? null,
    },
  };
};

function innerFailure(message) {
  throw new TypeError(message);
}

export const fail = async (event) => {
  innerFailure(event.message ?? 'node boom');
};

// Makes lots of short-lived garbage while keeping a small live set (~20 chunks), and reports
// the peak resident size it saw.
export const garbage = async (event) => {
  const keep = [];
  let peak = 0;
  for (let i = 0; i < (event.rounds ?? 3000); i++) {
    const chunk = [];
    for (let j = 0; j < 2000; j++) chunk.push({ i, j, s: 'x'.repeat(20) + j });
    keep.push(chunk);
    if (keep.length > 20) keep.shift();
    peak = Math.max(peak, process.memoryUsage().rss);
  }
  return { peakMb: Math.round(peak / 1048576) };
};

export const big = async (event) => ({ pid: process.pid, data: 'y'.repeat(event.size) });
