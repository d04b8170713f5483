import type { PipeKey } from '../pipes/definitions.ts';

/**
 * Console routes and the query parameters that carry a view's state, shared by the console's router and every place
 * that builds a deep link (alarm descriptions, ops API responses).
 */
export const CONSOLE_ROUTES = {
  overview: '/',
  dlqs: '/dlqs',
  message: '/dlqs/:pipe/messages/:messageId',
  metrics: '/metrics',
  alarms: '/alarms',
  filterLab: '/filter-lab',
  audit: '/audit',
  /** The local runtime's email outbox: the alarm notifications the on-call address received (local only). */
  inbox: '/inbox',
} as const;

export interface ConsoleViewState {
  pipe?: PipeKey;
  /** Window end-relative length in seconds (e.g. 3600), used when `from`/`to` are absent. */
  windowSeconds?: number;
  from?: string;
  to?: string;
}

/** `https://console.example/dlqs?pipe=standard&window=3600` */
export function consoleDeepLink(
  baseUrl: string,
  view: 'dlqs' | 'metrics' | 'alarms' | 'overview',
  state: ConsoleViewState,
): string {
  const params = new URLSearchParams();
  if (state.pipe) params.set('pipe', state.pipe);
  if (state.from) params.set('from', state.from);
  if (state.to) params.set('to', state.to);
  if (state.windowSeconds !== undefined && !state.from) params.set('window', String(state.windowSeconds));
  const query = params.toString();
  return `${baseUrl.replace(/\/+$/, '')}${CONSOLE_ROUTES[view]}${query ? `?${query}` : ''}`;
}
