import { createServer } from 'node:net';

/**
 * Ports for the runtime's servers are chosen below the ephemeral ranges the operating systems hand out for outgoing
 * connections (Linux 32768-60999, macOS and Windows 49152-65535). A port the OS picked for `listen(0)` comes from that
 * range, and between choosing it and the server binding it (seconds, while DynamoDB Local and fauxqs start) an outgoing
 * connection of this very process or of the JVM could take it as its local port: the bench hit that as EADDRINUSE
 * on the SQS gateway's port. With the default ranges, outgoing connections take no port below them (a system whose
 * range starts lower still gets a port that was free, with the old race).
 */
const CHOSEN_PORTS = { from: 20_000, to: 32_767 } as const;
const ATTEMPTS = 50;

/**
 * Ports this process already handed out or was told are taken by a server about to start (a restarted runtime's
 * fixed ports, `reservePorts`): free now, bound seconds later. A port is checked free by binding it for a moment, so
 * without this a later pick could land on one of them before its server binds: a chaos run's restart failed that way
 * (a fresh internal port took the ops API front's fixed port, which the front then found in use).
 */
const reserved = new Set<number>();

/** Keeps `freePort` from choosing these (the fixed ports a runtime is about to bind). */
export function reservePorts(ports: Iterable<number>): void {
  for (const port of ports) reserved.add(port);
}

function tryListen(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : undefined));
    });
  });
}

/**
 * A port that was free on 127.0.0.1 a moment ago and that this process has not handed out or reserved: a random one of
 * {@link CHOSEN_PORTS} that binds, or one the OS picks when none of {@link ATTEMPTS} tries did.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const port = CHOSEN_PORTS.from + Math.floor(Math.random() * (CHOSEN_PORTS.to - CHOSEN_PORTS.from + 1));
    if (reserved.has(port)) continue;
    const bound = await tryListen(port);
    if (bound !== undefined) {
      reserved.add(bound);
      return bound;
    }
  }
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const picked = await tryListen(0);
    if (picked === undefined) break;
    if (!reserved.has(picked)) {
      reserved.add(picked);
      return picked;
    }
  }
  throw new Error('no free port on 127.0.0.1');
}

/** Rejects with a message naming the port when something already listens on it. */
export async function assertPortFree(port: number, what: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new Error(
          error.code === 'EADDRINUSE'
            ? `port ${port} for ${what} is already in use; choose another or stop what holds it`
            : `cannot listen on port ${port} for ${what}: ${error.message}`,
          { cause: error },
        ),
      ),
    );
    server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
  });
}
