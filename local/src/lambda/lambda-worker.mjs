// One Lambda execution environment: loads the handler module once (cold start) and runs one invocation at a time.
// Plain JavaScript so that it runs in a worker thread without a TypeScript loader.
import { Agent } from 'node:http';
import { createRequire, syncBuiltinESMExports } from 'node:module';
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

// Cognito's JWKS locally: with AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER set (the local runtime's token issuer), an
// HTTPS request for a Cognito user pool host (`cognito-idp.<region>.amazonaws.com`, or the `issuer-cognito-idp` form)
// goes to that endpoint, path unchanged, as the SDK's own endpoint variables redirect its calls. JWT libraries fetch
// `<issuer>/.well-known/jwks.json` with `https.request`/`https.get` rather than an SDK client, so those two are
// wrapped; named ES imports of them see the wrappers after syncBuiltinESMExports.
const cognitoEndpoint = process.env.AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER
  ? new URL(process.env.AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER)
  : undefined;
const COGNITO_HOST = /^(issuer-)?cognito-idp\.[a-z0-9-]+\.amazonaws\.com$/;

function cognitoTarget(args) {
  const [first, second] = args;
  const options =
    typeof first === 'string' || first instanceof URL ? (typeof second === 'object' ? second : {}) : first;
  const url =
    typeof first === 'string' || first instanceof URL
      ? new URL(first)
      : new URL(`https://${options?.hostname ?? options?.host ?? 'localhost'}${options?.path ?? '/'}`);
  if (!COGNITO_HOST.test(url.hostname)) return undefined;
  const target = new URL(`${cognitoEndpoint.pathname.replace(/\/$/, '')}${url.pathname}${url.search}`, cognitoEndpoint);
  const { agent, host, hostname, port, protocol, path, ...rest } = options ?? {};
  const callback = args.find((arg) => typeof arg === 'function');
  return callback ? [target, rest, callback] : [target, rest];
}

if (cognitoEndpoint) {
  const require = createRequire(import.meta.url);
  const https = require('node:https');
  const http = require('node:http');
  const { request, get } = https;
  https.request = function (...args) {
    const target = cognitoTarget(args);
    return target ? http.request(...target) : request.apply(this, args);
  };
  https.get = function (...args) {
    const target = cognitoTarget(args);
    return target ? http.get(...target) : get.apply(this, args);
  };
  syncBuiltinESMExports();
}

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
