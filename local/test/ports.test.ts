import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePort, reservePorts } from '../src/services/ports.ts';

describe('freePort', () => {
  it('chooses ports below the ephemeral ranges outgoing connections take ports from, that bind on 127.0.0.1', async () => {
    const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()));
    for (const port of ports) {
      expect(port).toBeGreaterThanOrEqual(20_000);
      expect(port).toBeLessThan(32_768);
    }
    // Each can be bound at once.
    const servers = await Promise.all(
      [...new Set(ports)].map(
        (port) =>
          new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
            const server = createServer();
            server.once('error', reject);
            server.listen(port, '127.0.0.1', () => resolve(server));
          }),
      ),
    );
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  });

  it('never hands out a port twice, nor one reserved for a server about to bind it', async () => {
    const first = await Promise.all(Array.from({ length: 200 }, () => freePort()));
    expect(new Set(first).size).toBe(first.length);
    // Every port of the range reserved: what is left is a port the OS picks, outside it.
    reservePorts(Array.from({ length: 32_768 - 20_000 }, (_, i) => 20_000 + i));
    const picked = await freePort();
    expect(picked < 20_000 || picked > 32_767).toBe(true);
  });
});
