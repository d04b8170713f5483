/**
 * The repository's module boundaries, checked by `npm run lint` (dependency-cruiser over the whole tree; see
 * docs/ARCHITECTURE.md, "Boundaries and licences"). Each rule names a boundary; tools/test/boundaries.test.ts shows
 * each one failing on a fixture that breaks it, and the real tree passing.
 *
 * What dependency-cruiser cannot see, a module loaded through a computed specifier (`import(variable)`,
 * `require(variable)`), is refused by tools/src/computed-imports.ts, run by the same lint.
 */
const PACKAGES = 'pipeline|handlers|stack|local|ops-api|console|e2e|tools';
/** The modules of local that ops-api's tests may reach by path (see ops-api-tests-only-borrow-emulator-launchers). */
const EMULATOR_LAUNCHERS = '^local/src/services/(dynamodb-local|ports)\\.ts$';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'console-imports-ops-api-types-only',
      comment:
        "The console ships to browsers: it may use the ops API's types (its response schemas), never its code. " +
        'Tests may import values (they check the console against the API schemas); they do not ship.',
      severity: 'error',
      from: { path: '^console/src/' },
      to: { path: '^ops-api/', preCompilationOnly: false },
    },
    {
      name: 'console-features-independent',
      comment:
        'A console feature (console/src/features/<name>/) does not import another feature: what two features share ' +
        'lives in console/src/{api,components,lib}, and the router composes features.',
      severity: 'error',
      from: { path: '^console/src/features/([^/]+)/' },
      to: { path: '^console/src/features/[^/]+/', pathNot: '^console/src/features/$1/' },
    },
    {
      name: 'pipeline-depends-on-no-package',
      comment: 'pipeline is the shared domain every other package imports; it imports none of them.',
      severity: 'error',
      from: { path: '^pipeline/' },
      to: { path: `^(${PACKAGES})/`, pathNot: '^pipeline/' },
    },
    {
      name: 'ops-api-not-local-or-stack',
      comment:
        'The ops API runs in AWS and locally alike: it must not depend on the local runtime or the CDK app (local ' +
        'passes the ops API in; the stack bundles it).',
      severity: 'error',
      from: { path: '^ops-api/', pathNot: '^ops-api/test/' },
      to: { path: '^(local|stack)/' },
    },
    {
      name: 'ops-api-tests-only-borrow-emulator-launchers',
      comment:
        "ops-api's tests start DynamoDB Local with local's launcher (its JVM and process-group handling) and take " +
        'free ports from it. ops-api cannot declare @orderflow/local (local depends on ops-api: a workspace cycle ' +
        `turbo refuses), so these two modules are reached by path, and nothing else of local or stack.`,
      severity: 'error',
      from: { path: '^ops-api/test/' },
      to: { path: '^(local|stack)/', pathNot: EMULATOR_LAUNCHERS },
    },
    {
      name: 'handlers-not-ops-api',
      comment: 'The processors run in Lambda behind the pipes; the ops API is an operator tool they never call.',
      severity: 'error',
      from: { path: '^handlers/' },
      to: { path: '^ops-api/' },
    },
    {
      name: 'nothing-imports-e2e',
      comment: 'e2e tests everything and nothing depends on it.',
      severity: 'error',
      from: { pathNot: '^e2e/' },
      to: { path: '^e2e/' },
    },
    {
      name: 'no-relative-reach-into-another-package',
      comment:
        'A package uses another through its package name (declared in its package.json and resolved through the ' +
        "workspace), never by a relative path into the other's files.",
      severity: 'error',
      from: { path: `^(${PACKAGES})/`, pathNot: '^ops-api/test/' },
      to: { path: `^(${PACKAGES})/`, pathNot: '^$1/', dependencyTypesNot: ['aliased'] },
    },
    {
      name: 'no-relative-reach-into-another-package',
      comment: 'The same for ops-api tests, but for the emulator launchers above.',
      severity: 'error',
      from: { path: '^ops-api/test/' },
      to: { path: `^(${PACKAGES})/`, pathNot: ['^ops-api/', EMULATOR_LAUNCHERS], dependencyTypesNot: ['aliased'] },
    },
    {
      name: 'test-support-only-in-tests',
      comment:
        '@orderflow/pipeline/testing (polling for tests) is imported by tests, benchmarks and e2e, never by code that ships.',
      severity: 'error',
      from: { path: `^(${PACKAGES})/(src|bin)/` },
      to: { path: '^pipeline/testing/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: {
      path: [
        '(^|/)node_modules/',
        '(^|/)(dist|cdk\\.out|coverage|\\.turbo|\\.orderflow)/',
        '^e2e/(artifacts|test-results|playwright-report)/',
        '^tools/test/fixtures/',
      ],
    },
    // Type-only imports are dependencies too, marked so (preCompilationOnly) for the console rule.
    tsPreCompilationDeps: 'specify',
    combinedDependencies: true,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.tsx', '.mts', '.cts', '.js', '.mjs', '.cjs', '.json'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
