/**
 * Environment of the ops API in AWS (its Lambda function), set by the stack and validated by the ops API's
 * `loadConfig(env)`. Table names reuse {@link HANDLER_ENV}'s variables where the processors read the same table.
 */
export const OPS_API_ENV = {
  region: 'AWS_REGION',
  /**
   * The ops API function's own name, set by Lambda itself (a reserved variable the stack cannot set): redrive jobs are
   * started by an asynchronous invocation of this function.
   */
  functionName: 'AWS_LAMBDA_FUNCTION_NAME',
  standardDlqUrl: 'ORDERFLOW_STANDARD_DLQ_URL',
  premiumDlqUrl: 'ORDERFLOW_PREMIUM_DLQ_URL',
  standardFunctionName: 'ORDERFLOW_STANDARD_FUNCTION_NAME',
  premiumFunctionName: 'ORDERFLOW_PREMIUM_FUNCTION_NAME',
  standardPipeName: 'ORDERFLOW_STANDARD_PIPE_NAME',
  premiumPipeName: 'ORDERFLOW_PREMIUM_PIPE_NAME',
  auditTable: 'AUDIT_TABLE_NAME',
  /** Redrive jobs and message leases (`LOGICAL_IDS.jobsTable`, keys `JOBS_KEYS`), apart from the append-only audit. */
  jobsTable: 'JOBS_TABLE_NAME',
  /** The dead-letter store (`LOGICAL_IDS.deadLetterTable`), read only: the `/api/dead-letters` routes. */
  deadLetterTable: 'DEAD_LETTER_TABLE_NAME',
  /** Origin of the console (CORS allows only this origin), e.g. `https://d111.cloudfront.net`. */
  consoleOrigin: 'ORDERFLOW_CONSOLE_ORIGIN',
  /** Base URL of the runbooks (alarm runbook links are `<base>/docs/runbooks/<slug>.md`). */
  runbookBaseUrl: 'ORDERFLOW_RUNBOOK_BASE_URL',
  cognitoUserPoolId: 'COGNITO_USER_POOL_ID',
  cognitoClientId: 'COGNITO_CLIENT_ID',
  /** Hosted UI domain, e.g. `orderflow-ops.auth.us-east-1.amazoncognito.com` (for the console's login). */
  cognitoDomain: 'COGNITO_DOMAIN',
  /** Directory with the built console, served at `/` (optional). */
  consoleDir: 'ORDERFLOW_CONSOLE_DIR',
} as const;

/** The ops API's roles: operators may redrive and discard, viewers only read. */
export const OPS_API_ROLES = ['operator', 'viewer'] as const;
export type OpsApiRole = (typeof OPS_API_ROLES)[number];

/** Cognito groups that map to ops API roles. */
export const OPS_API_GROUPS = { operator: 'operators', viewer: 'viewers' } as const satisfies Record<
  OpsApiRole,
  string
>;
