import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const TEMPLATE_FILE = join(REPO_ROOT, 'stack/cdk.out/Orderflow.template.json');
export const CONSOLE_DIST = join(REPO_ROOT, 'console/dist');
/** Screenshots of every main view, written on every run (git-ignored). */
export const ARTIFACTS_DIR = join(REPO_ROOT, 'e2e/artifacts');
