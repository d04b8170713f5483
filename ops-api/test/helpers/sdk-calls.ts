/**
 * Runs `around` on every command an AWS SDK v3 client sends (an `initialize` middleware), with the command's name
 * (`ReceiveMessage`, without `Command`) and input; `around` calls `send` to let it through. Tests and benchmarks use it
 * to count and time the API's AWS calls, or to make one of them fail.
 */
export function aroundEachCall(
  client: { middlewareStack: { add: (...args: never[]) => void } },
  name: string,
  around: (command: string, input: Record<string, unknown>, send: () => Promise<unknown>) => Promise<unknown>,
): void {
  const add = client.middlewareStack.add as unknown as (
    middleware: (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => unknown,
    options: { step: 'initialize'; name: string },
  ) => void;
  add(
    (next, context) => async (args: unknown) =>
      around(
        (context.commandName ?? 'unknown').replace(/Command$/, ''),
        (args as { input?: Record<string, unknown> }).input ?? {},
        () => next(args),
      ),
    { step: 'initialize', name },
  );
}
