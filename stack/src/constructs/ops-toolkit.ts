import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  CONSOLE_AUTH_CALLBACK_PATH,
  CONSOLE_OAUTH_SCOPES,
  DEAD_LETTER_INDEXES,
  HANDLER_ENV,
  OPS_API_ENV,
  OPS_API_GROUPS,
  type PipeKey,
} from '@orderflow/pipeline/facts';
import { Aws, CfnOutput, Duration, RemovalPolicy } from 'aws-cdk-lib';
import { CorsHttpMethod, HttpApi, HttpStage, LogGroupLogDestination } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import {
  Distribution,
  HeadersFrameOption,
  HeadersReferrerPolicy,
  ResponseHeadersPolicy,
  ViewerProtocolPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import { S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import {
  AccountRecovery,
  FeaturePlan,
  Mfa,
  OAuthScope,
  UserPool,
  type UserPoolClient,
  type UserPoolDomain,
  UserPoolGroup,
} from 'aws-cdk-lib/aws-cognito';
import { type IRole, Policy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { BlockPublicAccess, Bucket, BucketEncryption } from 'aws-cdk-lib/aws-s3';
import { BucketDeployment, Source } from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { repoPath } from '../paths.ts';
import { bundledFunction, MissingBuildOutputError } from './bundled-function.ts';
import type { OrderPipe } from './order-pipe.ts';
import type { PipelineData } from './pipeline-data.ts';
import { grantOnIndex, grantOnTable } from './table-grants.ts';

export interface OpsToolkitProps {
  readonly data: PipelineData;
  readonly pipes: Readonly<Record<PipeKey, OrderPipe>>;
  readonly processors: Readonly<Record<PipeKey, IFunction>>;
  readonly resourcePrefix: string;
  readonly logRetention: RetentionDays;
  readonly removalPolicy: RemovalPolicy;
  /** @default `console/dist` of this repository */
  readonly consoleDir?: string;
  /** @default `<resourcePrefix>-<account id>` */
  readonly cognitoDomainPrefix?: string;
  /** @default this console site, which publishes `docs/runbooks` */
  readonly runbookBaseUrl?: string;
}

/**
 * The rate-based protection in front of the ops API: the HTTP API stage's default route throttling (API Gateway
 * developer guide, "Throttling requests to your HTTP API"). AWS WAF, the service with per-client rate-based rules,
 * cannot be associated with an HTTP API (WAF developer guide: protected resources are CloudFront, REST APIs, ALB,
 * AppSync, Cognito, App Runner, Amplify, Verified Access), and a CloudFront web ACL must live in us-east-1, which this
 * environment-agnostic stack cannot place. Stage throttling counts every request, so it cannot tell an operator from
 * an anonymous client; its job is to keep a flood from reaching Lambda or the account's shared API Gateway quota
 * (10,000 requests/s per Region), while being high enough that one client cannot starve operators cheaply:
 * - unauthenticated requests never reach Lambda: the JWT authorizer answers them (401) at no cost to the function;
 * - an authenticated principal gets 600 requests a minute in the ops API (its per-principal limiter), so 20 principals
 *   at full budget are 200 requests/s, the rate below; the burst covers the console's parallel first loads.
 * The previous 50/s with a burst of 100 protected the function no better (the authorizer already does) and let a
 * single anonymous script lock operators out. The residual risk, a flood above 200/s, needs per-client limits: a
 * Regional REST API with an AWS WAF rate-based rule, or CloudFront with a us-east-1 web ACL in front of an API whose
 * execute-api endpoint is disabled (docs/ARCHITECTURE.md, "Stack").
 */
const OPS_API_STAGE_THROTTLE = { rateLimit: 200, burstLimit: 400 } as const;

/** Where the runbooks are published inside the console bucket: `<site>/docs/runbooks/<slug>.md`. */
const RUNBOOK_PREFIX = 'docs/runbooks/';

/**
 * The ops toolkit in AWS: Cognito (operators and viewers), the ops API Lambda behind an HTTP API with a JWT
 * authorizer, and the console on S3 + CloudFront with its runtime `config.json` written at deploy.
 */
export class OpsToolkit extends Construct {
  readonly userPool: UserPool;
  readonly userPoolClient: UserPoolClient;
  readonly domain: UserPoolDomain;
  readonly api: HttpApi;
  readonly apiFunction: NodejsFunction;
  readonly bucket: Bucket;
  readonly distribution: Distribution;
  /** `https://<distribution domain>` */
  readonly consoleUrl: string;
  /** Base the runbook paths (`docs/runbooks/<slug>.md`) are appended to. */
  readonly runbookBaseUrl: string;

  constructor(scope: Construct, id: string, props: OpsToolkitProps) {
    super(scope, id);
    const consoleDir = props.consoleDir ?? repoPath('console', 'dist');
    if (!existsSync(join(consoleDir, 'index.html'))) {
      throw new MissingBuildOutputError(
        `the console build ${join(consoleDir, 'index.html')} is missing: run \`npm run build -w console\` first (or synthesize without the ops toolkit: \`-c opsToolkit=false\`)`,
      );
    }

    // --- console hosting -------------------------------------------------------------------------------------
    this.bucket = new Bucket(this, 'ConsoleBucket', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      versioned: false,
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: true,
    });
    const region = Aws.REGION;

    // --- Cognito -----------------------------------------------------------------------------------------------
    this.userPool = new UserPool(this, 'UserPool', {
      userPoolName: `${props.resourcePrefix}-operators`,
      // Operators are invited by an administrator (docs/DEPLOY.md, "Creating the first operator").
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      mfa: Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false },
      passwordPolicy: {
        minLength: 12,
        requireDigits: true,
        requireLowercase: true,
        requireUppercase: true,
        requireSymbols: true,
      },
      accountRecovery: AccountRecovery.EMAIL_ONLY,
      featurePlan: FeaturePlan.ESSENTIALS,
      removalPolicy: props.removalPolicy,
    });
    for (const [role, groupName] of Object.entries(OPS_API_GROUPS)) {
      new UserPoolGroup(this, `${role}Group`, {
        userPool: this.userPool,
        groupName,
        description: `Orderflow ${groupName}`,
      });
    }
    const domainPrefix = props.cognitoDomainPrefix ?? `${props.resourcePrefix}-${Aws.ACCOUNT_ID}`;
    this.domain = this.userPool.addDomain('Domain', { cognitoDomain: { domainPrefix } });
    const cognitoHost = `${this.domain.domainName}.auth.${region}.amazoncognito.com`;

    // --- CloudFront ----------------------------------------------------------------------------------------------
    // The API and Cognito hosts are the only other origins the console talks to.
    // The API's exact endpoint would close this to the one API, but cannot be named here: the API's CORS origin is
    // this distribution, so the distribution -> headers policy -> API -> distribution references form a cycle
    // CloudFormation refuses (CloudFormation Validate F3004). The pattern is limited to this Region and partition.
    const apiHostPattern = `https://*.execute-api.${region}.${Aws.URL_SUFFIX}`;
    const headers = new ResponseHeadersPolicy(this, 'SecurityHeaders', {
      comment: 'Orderflow console security headers',
      securityHeadersBehavior: {
        contentSecurityPolicy: {
          contentSecurityPolicy: [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            `connect-src 'self' ${apiHostPattern} https://${cognitoHost} https://cognito-idp.${region}.amazonaws.com`,
            "frame-ancestors 'none'",
            "base-uri 'self'",
            `form-action 'self' https://${cognitoHost}`,
          ].join('; '),
          override: true,
        },
        strictTransportSecurity: { accessControlMaxAge: Duration.days(365), includeSubdomains: true, override: true },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN, override: true },
        xssProtection: { protection: true, modeBlock: true, override: true },
      },
    });
    this.distribution = new Distribution(this, 'ConsoleDistribution', {
      comment: 'Orderflow console',
      defaultRootObject: 'index.html',
      defaultBehavior: {
        origin: S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        responseHeadersPolicy: headers,
      },
      // SPA routing: with origin access control and no ListBucket permission, S3 answers 403 for a client-side
      // route such as /dlqs; serve index.html and let the router render it.
      errorResponses: [403, 404].map((httpStatus) => ({
        httpStatus,
        responseHttpStatus: 200,
        responsePagePath: '/index.html',
        ttl: Duration.seconds(0),
      })),
    });
    this.consoleUrl = `https://${this.distribution.distributionDomainName}`;
    this.runbookBaseUrl = props.runbookBaseUrl ?? this.consoleUrl;

    // Public SPA client: authorization code with PKCE, no secret (Cognito developer guide, "App clients").
    this.userPoolClient = this.userPool.addClient('ConsoleClient', {
      userPoolClientName: 'orderflow-console',
      generateSecret: false,
      authFlows: { userSrp: true },
      oAuth: {
        flows: { authorizationCodeGrant: true },
        scopes: CONSOLE_OAUTH_SCOPES.map((scope) => OAuthScope.custom(scope)),
        callbackUrls: [`${this.consoleUrl}${CONSOLE_AUTH_CALLBACK_PATH}`],
        logoutUrls: [`${this.consoleUrl}/`],
      },
      preventUserExistenceErrors: true,
      accessTokenValidity: Duration.hours(1),
      idTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.days(1),
    });

    // --- ops API -------------------------------------------------------------------------------------------------
    const { data, pipes, processors } = props;
    this.apiFunction = bundledFunction(this, 'OpsApiFunction', {
      entry: repoPath('ops-api', 'src', 'lambda.ts'),
      entryOwner: 'the ops API package (ops-api/src/lambda.ts)',
      description: 'Orderflow ops API: DLQ inspection, redrive, filter explanation, audit',
      // API Gateway still ends every HTTP request at 30 seconds (docs/AWS-FACTS.md, fact 14); the function's own
      // timeout is for the redrive jobs it runs in asynchronous invocations of itself (ops-api/src/services/
      // job-launcher.ts), each of which gets Lambda's maximum.
      timeout: Duration.minutes(15),
      memorySize: 1024,
      logRetention: props.logRetention,
      environment: {
        [OPS_API_ENV.standardDlqUrl]: data.deadLetterQueues.standard.queueUrl,
        [OPS_API_ENV.premiumDlqUrl]: data.deadLetterQueues.premium.queueUrl,
        [OPS_API_ENV.standardFunctionName]: processors.standard.functionName,
        [OPS_API_ENV.premiumFunctionName]: processors.premium.functionName,
        [OPS_API_ENV.standardPipeName]: pipes.standard.pipeName,
        [OPS_API_ENV.premiumPipeName]: pipes.premium.pipeName,
        [OPS_API_ENV.auditTable]: data.auditTable.tableName,
        [OPS_API_ENV.jobsTable]: data.jobsTable.tableName,
        [OPS_API_ENV.deadLetterTable]: data.deadLetterTable.tableName,
        [HANDLER_ENV.ordersTable]: data.ordersTable.tableName,
        [HANDLER_ENV.journalTable]: data.journalTable.tableName,
        [HANDLER_ENV.idempotencyTable]: data.idempotencyTable.tableName,
        [OPS_API_ENV.cognitoUserPoolId]: this.userPool.userPoolId,
        [OPS_API_ENV.cognitoClientId]: this.userPoolClient.userPoolClientId,
        [OPS_API_ENV.cognitoDomain]: cognitoHost,
        [OPS_API_ENV.consoleOrigin]: this.consoleUrl,
        [OPS_API_ENV.runbookBaseUrl]: this.runbookBaseUrl,
      },
    });
    this.grantOpsApi(props);

    const accessLogs = new LogGroup(this, 'ApiAccessLogs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.api = new HttpApi(this, 'OpsApi', {
      apiName: `${props.resourcePrefix}-ops-api`,
      createDefaultStage: false,
      // Preflight requests are answered by API Gateway itself, before the authorizer (API Gateway developer guide,
      // "Configuring CORS for an HTTP API").
      corsPreflight: {
        allowOrigins: [this.consoleUrl],
        allowHeaders: ['authorization', 'content-type'],
        allowMethods: [CorsHttpMethod.GET, CorsHttpMethod.POST, CorsHttpMethod.PUT, CorsHttpMethod.DELETE],
        maxAge: Duration.hours(1),
      },
      // Cognito access tokens carry `client_id` instead of `aud`; the HTTP API JWT authorizer accepts either
      // (API Gateway developer guide, "Controlling access to HTTP APIs with JWT authorizers").
      defaultAuthorizer: new HttpJwtAuthorizer(
        'CognitoAuthorizer',
        `https://cognito-idp.${region}.amazonaws.com/${this.userPool.userPoolId}`,
        { jwtAudience: [this.userPoolClient.userPoolClientId] },
      ),
      defaultIntegration: new HttpLambdaIntegration('OpsApiIntegration', this.apiFunction),
    });
    new HttpStage(this, 'OpsApiStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: OPS_API_STAGE_THROTTLE,
      accessLogSettings: { destination: new LogGroupLogDestination(accessLogs) },
    });

    // --- console deployment --------------------------------------------------------------------------------------
    // The console reads /config.json at start (interface 5); its values exist only after deploy, hence jsonData.
    new BucketDeployment(this, 'ConsoleDeployment', {
      destinationBucket: this.bucket,
      sources: [
        Source.asset(consoleDir),
        Source.jsonData('config.json', {
          apiBaseUrl: this.api.apiEndpoint,
          auth: {
            mode: 'cognito',
            userPoolId: this.userPool.userPoolId,
            clientId: this.userPoolClient.userPoolClientId,
            domain: cognitoHost,
            region,
          },
        }),
      ],
      // The runbooks are deployed separately below; excluded paths are neither uploaded nor pruned.
      exclude: [`${RUNBOOK_PREFIX}*`],
      distribution: this.distribution,
      distributionPaths: ['/index.html', '/config.json'],
      memoryLimit: 256,
    });
    new BucketDeployment(this, 'RunbookDeployment', {
      destinationBucket: this.bucket,
      destinationKeyPrefix: RUNBOOK_PREFIX,
      sources: [Source.asset(repoPath('docs', 'runbooks'))],
      prune: false,
      distribution: this.distribution,
      distributionPaths: [`/${RUNBOOK_PREFIX}*`],
      memoryLimit: 256,
    });

    new CfnOutput(scope, 'ConsoleUrl', { value: this.consoleUrl });
    new CfnOutput(scope, 'OpsApiUrl', { value: this.api.apiEndpoint });
    new CfnOutput(scope, 'UserPoolId', { value: this.userPool.userPoolId });
    new CfnOutput(scope, 'UserPoolClientId', { value: this.userPoolClient.userPoolClientId });
    new CfnOutput(scope, 'CognitoDomain', { value: cognitoHost });
  }

  /**
   * Exactly the calls the ops API sends (ops-api/src/services/*.ts), each on the toolkit's own resources, and nothing
   * else (docs/AWS-FACTS.md, fact 15). A batch call is authorised as its single-item action: DeleteMessageBatch as
   * sqs:DeleteMessage, ChangeMessageVisibilityBatch as sqs:ChangeMessageVisibility, and a TransactWriteItems as the
   * action of each item (Put, Delete).
   */
  private grantOpsApi(props: OpsToolkitProps): void {
    const { data, processors } = props;
    const fn = this.apiFunction;
    const dlqArns = Object.values(data.deadLetterQueues).map((queue) => queue.queueArn);
    // dlq-queue.ts: receive (browse, claim), delete (discard; after a redrive), visibility (release), attributes.
    fn.addToRolePolicy(
      new PolicyStatement({
        sid: 'InspectDeadLetterQueues',
        actions: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueAttributes'],
        resources: dlqArns,
      }),
    );
    // stream-reader.ts: an iterator at the DLQ message's sequence number, then its records (the shard and stream come
    // from the DLQ message). impact-stream.ts, a rule impact preview over the stream's retained records: the stream's
    // shards (DescribeStream), an iterator at each one's TRIM_HORIZON, its records. Never ListStreams: the stream is
    // the Orders table's latest (DescribeTable, below).
    fn.addToRolePolicy(
      new PolicyStatement({
        sid: 'ReReadOrdersStream',
        actions: ['dynamodb:DescribeStream', 'dynamodb:GetShardIterator', 'dynamodb:GetRecords'],
        resources: [data.ordersTable.tableStreamArn ?? ''],
      }),
    );
    // redrive.ts: re-invokes the processor with the DLQ message's records.
    fn.addToRolePolicy(
      new PolicyStatement({
        sid: 'RedriveToProcessors',
        actions: ['lambda:InvokeFunction'],
        resources: Object.values(processors).map((processor) => processor.functionArn),
      }),
    );
    // pipe-control.ts: operators pause and resume a pipe (StopPipe, StartPipe) and the API shows each pipe's state
    // (DescribePipe). All three act on the `pipe` resource type (Service Authorization Reference, Amazon EventBridge
    // Pipes), so the grant names the two pipes' ARNs; never ListPipes: the API knows its pipes by name.
    fn.addToRolePolicy(
      new PolicyStatement({
        sid: 'PauseAndResumePipes',
        actions: ['pipes:DescribePipe', 'pipes:StartPipe', 'pipes:StopPipe'],
        resources: Object.values(props.pipes).map((pipe) => pipe.pipe.attrArn),
      }),
    );
    // filter-metrics.ts: ListMetrics finds the dimension sets, GetMetricData reads them; neither supports a resource
    // type (Service Authorization Reference, Amazon CloudWatch), so `*` is the only resource that grants them.
    fn.addToRolePolicy(
      new PolicyStatement({
        sid: 'ReadMetrics',
        actions: ['cloudwatch:GetMetricData', 'cloudwatch:ListMetrics'],
        resources: ['*'],
      }),
    );
    // alarms.ts: DescribeAlarms of this stack's alarms, the composite among them. "To use this operation and return
    // information about composite alarms, you must be signed on with the cloudwatch:DescribeAlarms permission that is
    // scoped to *" (DescribeAlarms, CloudWatch API reference): a grant on `alarm:orderflow-*` would hide the pipeline's
    // composite alarm from operators, and the local runtime refuses the prefixed call such a grant does not cover.
    // Alarm definitions are read-only metadata; nothing else in the account is exposed by it.
    fn.addToRolePolicy(
      new PolicyStatement({
        sid: 'ReadAlarms',
        actions: ['cloudwatch:DescribeAlarms'],
        resources: ['*'],
      }),
    );
    // job-launcher.ts: a redrive job runs in an asynchronous invocation of this same function. In a separate policy:
    // the function depends on its role's default policy, so a statement there naming the function's own ARN would
    // be a circular dependency (the ARN exists only once the function does).
    new Policy(this, 'OpsApiStartsJobs', {
      statements: [
        new PolicyStatement({
          sid: 'RunJobsInOwnInvocations',
          actions: ['lambda:InvokeFunction'],
          resources: [fn.functionArn],
        }),
      ],
    }).attachToRole(fn.role as IRole);
    // record-state.ts: the current order (a record older than the stream's 24 hours) and the idempotency records
    // (already applied?), both by BatchGetItem. impact-stream.ts: the table's latest stream ARN (DescribeTable).
    data.ordersTable.grant(fn, 'dynamodb:BatchGetItem', 'dynamodb:DescribeTable');
    data.idempotencyTable.grant(fn, 'dynamodb:BatchGetItem');
    // journal.ts: entries by record key (BatchGetItem) and, once the stream dropped a range, the pipe's entries (Scan).
    // The processors write the journal; the API never changes it.
    // The table only: its bySequence index is the dead-letter archivers' (table-grants.ts).
    grantOnTable(data.journalTable, fn, 'dynamodb:BatchGetItem', 'dynamodb:Scan');
    // audit-log.ts: append (a put conditional on a new key) and read by day (Query); never GetItem, never a change.
    // The table's resource policy denies every change to every principal (pipeline-data.ts).
    data.auditTable.grant(fn, 'dynamodb:PutItem', 'dynamodb:Query');
    // The API's mutable state: job-store.ts (put, heartbeats and claims by update, read, cancel), leases.ts
    // (conditional put, alone or in a transaction; read the holder; delete on release, alone or in a transaction),
    // stream-gate.ts (read slots by update and get) and rate-limit-store.ts (counters by update).
    data.jobsTable.grant(fn, 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem');
    // dead-letters.ts, read only: Query of the table (a dead letter with its records, an order's links, the
    // counters) and of each index (lists, totals, first and last failure of a cause), BatchGetItem of a page's items.
    grantOnTable(data.deadLetterTable, fn, 'dynamodb:BatchGetItem', 'dynamodb:Query');
    for (const index of Object.values(DEAD_LETTER_INDEXES)) {
      grantOnIndex(data.deadLetterTable, index.name, fn, 'dynamodb:Query');
    }
  }
}
