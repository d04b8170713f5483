import { readdirSync, readFileSync } from 'node:fs';

/** USER_HZ: 100 on every Linux architecture Node runs on. */
const CLOCK_TICKS = 100;

function stat(pid: number): { comm: string; ppid: number; cpuMs: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const comm = text.slice(text.indexOf('(') + 1, text.lastIndexOf(')'));
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return {
      comm,
      ppid: Number(fields[1]),
      cpuMs: ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS,
    };
  } catch {
    return undefined;
  }
}

/** CPU time (user + system, ms) a process has used so far; NaN where /proc is not available. */
export function cpuMs(pid: number | undefined): number {
  return pid === undefined ? Number.NaN : (stat(pid)?.cpuMs ?? Number.NaN);
}

/** The `java` process at or below `root` (DynamoDB Local is started through a small shell watchdog). */
export function jvmUnder(root: number | undefined): number | undefined {
  if (root === undefined) return undefined;
  let pids: number[] = [];
  try {
    pids = readdirSync('/proc')
      .filter((name) => /^\d+$/.test(name))
      .map(Number);
  } catch {
    return undefined;
  }
  const parents = new Map(pids.map((pid) => [pid, stat(pid)]));
  const isUnder = (pid: number): boolean => {
    for (let current: number | undefined = pid, depth = 0; current && depth < 10; depth++) {
      if (current === root) return true;
      current = parents.get(current)?.ppid;
    }
    return false;
  };
  return pids.find((pid) => parents.get(pid)?.comm === 'java' && isUnder(pid));
}
