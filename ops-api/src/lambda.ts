import awsLambdaFastify from '@fastify/aws-lambda';
import { buildApp } from './app.ts';
import { loadConfig } from './config.ts';

/**
 * The ops API as a Lambda function behind API Gateway. Config is validated at init, so a misconfigured deployment
 * fails on its first cold start with a message naming each bad variable. Redrive jobs run inline (see
 * `OpsApiConfig.jobExecution`): a frozen Lambda instance cannot keep a background job going.
 */
const app = await buildApp(loadConfig(process.env));
const proxy = awsLambdaFastify(app);

export const handler = proxy;
