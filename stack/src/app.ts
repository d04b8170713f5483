import { App, type AppProps, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { OrderflowStack, STACK_NAME } from './orderflow-stack.ts';
import type { OrderflowStackProps } from './props.ts';

/** Context values `cdk deploy -c name=value` accepts (docs/DEPLOY.md). */
export const CONTEXT_KEYS = [
  'alarmEmail',
  'opsToolkit',
  'consoleDir',
  'cognitoDomainPrefix',
  'runbookBaseUrl',
] as const;

function contextProps(app: App): OrderflowStackProps {
  const value = (key: (typeof CONTEXT_KEYS)[number]): string | undefined => {
    const raw: unknown = app.node.tryGetContext(key);
    return raw === undefined || raw === null || raw === '' ? undefined : String(raw);
  };
  const alarmEmail = value('alarmEmail');
  const cognitoDomainPrefix = value('cognitoDomainPrefix');
  const runbookBaseUrl = value('runbookBaseUrl');
  const consoleDir = value('consoleDir');
  return {
    ...(alarmEmail ? { alarmEmail } : {}),
    ...(cognitoDomainPrefix ? { cognitoDomainPrefix } : {}),
    ...(runbookBaseUrl ? { runbookBaseUrl } : {}),
    ...(consoleDir ? { consoleDir } : {}),
    opsToolkit: value('opsToolkit') !== 'false',
  };
}

/** The CDK app: the `Orderflow` stack, environment-agnostic (synth needs no credentials), checked by cdk-nag. */
export function createApp(
  props: OrderflowStackProps = {},
  appProps: AppProps = {},
): { app: App; stack: OrderflowStack } {
  const app = new App(appProps);
  const stack = new OrderflowStack(app, STACK_NAME, { ...contextProps(app), ...props });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}
