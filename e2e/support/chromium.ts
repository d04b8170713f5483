/**
 * Debian's Chromium (Playwright cannot download its own browser builds here). The flags keep a root, offline
 * machine quiet: no sandbox (root), no GPU, and none of the background fetches that would only time out.
 */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
] as const;
