import { buildApp } from './app.ts';
import { loadConfig } from './config.ts';
import { lambdaHandler } from './lambda-handler.ts';

/**
 * The ops API as a Lambda function behind API Gateway, which also runs the redrive jobs it starts (see
 * `lambda-handler.ts`). Config is validated at init, so a misconfigured deployment fails on its first cold start with a
 * message naming each bad variable.
 */
const app = await buildApp(loadConfig(process.env));

export const handler = lambdaHandler(app);
