import type { IncomingMessage, Server } from 'node:http';

/** Listens on 127.0.0.1; a busy port rejects with a message naming the port and what wanted it. */
export async function listen(server: Server, port: number, what: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new Error(
          error.code === 'EADDRINUSE'
            ? `port ${port} for ${what} is already in use; choose another or stop what holds it`
            : `${what}: ${error.message}`,
          { cause: error },
        ),
      ),
    );
    server.listen(port, '127.0.0.1', () => resolve());
  });
}

export async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/**
 * The body of an AWS JSON request as an object (an empty body is `{}`); anything else is the message of the
 * protocol's SerializationException, which `refuse` turns into the caller's error.
 */
export async function readJsonObject(
  request: IncomingMessage,
  refuse: (message: string) => Error,
): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  let parsed: unknown;
  try {
    parsed = text.trim() === '' ? {} : JSON.parse(text);
  } catch (error: unknown) {
    throw refuse(`request body is not JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw refuse('request body must be a JSON object');
  return parsed as Record<string, unknown>;
}
