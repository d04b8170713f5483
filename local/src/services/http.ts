import type { Server } from 'node:http';

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
