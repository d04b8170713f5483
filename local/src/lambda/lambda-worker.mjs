// One Lambda execution environment: loads the handler module once (cold start) and runs one invocation at a time.
// Plain JavaScript so that it runs in a worker thread without a TypeScript loader.
import { Agent } from 'node:http';
import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';

const { entryFile, exportName } = workerData;
let handlerPromise;

function loadHandler() {
  handlerPromise ??= import(pathToFileURL(entryFile).href).then((module) => {
    const handler = module[exportName] ?? module.default?.[exportName];
    if (typeof handler !== 'function') {
      throw new Error(`${entryFile} does not export a function '${exportName}'`);
    }
    return handler;
  });
  return handlerPromise;
}

// Fault mode `downstream`: while an invocation runs with it, every HTTP request to the SQS endpoint the function was
// given fails before it is written, as in an SQS outage. The handler itself runs and handles (or journals) the
// failure. The hook is the agent's addRequest, which every SDK request passes through before it gets a socket: a
// diagnostics-channel hook fires only once a kept-alive socket has already sent the request.
const sqsEndpoint = process.env.AWS_ENDPOINT_URL_SQS ? new URL(process.env.AWS_ENDPOINT_URL_SQS) : undefined;
let downstreamFault = false;
const { addRequest } = Agent.prototype;
Agent.prototype.addRequest = function (request, options) {
  const host = options.hostname ?? options.host;
  if (downstreamFault && sqsEndpoint && host === sqsEndpoint.hostname && String(options.port) === sqsEndpoint.port) {
    const error = new Error(
      `connect ECONNREFUSED ${sqsEndpoint.host} (fault injected by the local runtime: mode downstream)`,
    );
    error.code = 'ECONNREFUSED';
    // Destroyed before it has a socket: when the agent hands it one, the request fails with this error unwritten.
    request.destroy(error);
  }
  return addRequest.call(this, request, options);
};

function describeError(error) {
  if (error instanceof Error) {
    return { errorType: error.name, errorMessage: error.message, trace: String(error.stack ?? '').split('\n') };
  }
  return { errorType: 'Error', errorMessage: String(error), trace: [] };
}

parentPort.on('message', async ({ id, event, context, downstreamFault: fault }) => {
  downstreamFault = fault === true;
  const lambdaContext = {
    ...context,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, context.deadline - Date.now()),
    done() {},
    fail() {},
    succeed() {},
  };
  try {
    const handler = await loadHandler();
    const result = await handler(event, lambdaContext);
    parentPort.postMessage({ id, ok: true, result: result === undefined ? null : JSON.parse(JSON.stringify(result)) });
  } catch (error) {
    parentPort.postMessage({ id, ok: false, error: describeError(error) });
  }
});
