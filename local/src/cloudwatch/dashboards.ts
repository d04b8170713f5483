import { IntrinsicResolver, type ResolveContext } from '../template/intrinsics.ts';
import type { LoadedTemplate } from '../template/local-plan.ts';

/**
 * The template's dashboards (`AWS::CloudWatch::Dashboard`), as ListDashboards and GetDashboard return them: the name
 * the template gives (CloudFormation generates one otherwise; locally the logical id stands in) and the body with its
 * intrinsics resolved to the local resources, as CloudFormation resolves it before calling PutDashboard
 * (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-cloudwatch-dashboard.html).
 */
export interface DashboardSpec {
  readonly name: string;
  /** The dashboard body, a JSON document as a string (DashboardBody). */
  readonly body: string;
  /** When the runtime created it, epoch ms (LastModified). */
  readonly lastModified: number;
}

/**
 * Dashboards are global resources: their ARN has no region (`arn:aws:cloudwatch::ACCOUNT:dashboard/NAME`; Service
 * Authorization Reference for Amazon CloudWatch, resource type `dashboard`).
 */
export function dashboardArn(name: string, account: string): string {
  return `arn:aws:cloudwatch::${account}:dashboard/${name}`;
}

/** A dashboard's name: its DashboardName, or (CloudFormation would generate one) the logical id. */
export function dashboardName(resolver: IntrinsicResolver, id: string, properties: Record<string, unknown>): string {
  return properties.DashboardName === undefined
    ? id
    : resolver.resolveString(properties.DashboardName, `${id}.DashboardName`);
}

export function dashboardSpecs(loaded: LoadedTemplate, context: ResolveContext, created = Date.now()): DashboardSpec[] {
  const resolver = new IntrinsicResolver(loaded.template, context);
  const specs: DashboardSpec[] = [];
  for (const [id, resource] of Object.entries(loaded.template.Resources)) {
    if (resource.Type !== 'AWS::CloudWatch::Dashboard' || !resolver.isCreated(resource, id)) continue;
    const properties = resource.Properties ?? {};
    const body = resolver.resolveString(properties.DashboardBody, `${id}.DashboardBody`);
    try {
      JSON.parse(body);
    } catch (error: unknown) {
      throw new Error(`${id}.DashboardBody is not JSON once resolved: ${(error as Error).message}`);
    }
    const name = dashboardName(resolver, id, properties);
    specs.push({ name, body, lastModified: created });
  }
  return specs.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
