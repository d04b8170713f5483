import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the stack bundles and uploads files of the other packages from here. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export function repoPath(...segments: string[]): string {
  return join(REPO_ROOT, ...segments);
}
