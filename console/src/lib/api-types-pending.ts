/**
 * Types of ops API routes that `@orderflow/ops-api/schemas` does not define (yet). This is the ONE place such types
 * are written by hand; every other request and response type is imported from the schemas module.
 */
import type { Role as ApiRole } from '@orderflow/ops-api/schemas';

/**
 * The console's view of the signed-in role. `unknown` when the ops API offers no `GET /api/me`: actions then stay
 * enabled and the API's own 403 for viewers is shown.
 */
export type Role = ApiRole | 'unknown';

/** `GET /api/me` (requested from the ops API; not in its schemas yet): the principal the bearer token stands for. */
export interface Me {
  actor: string;
  role: ApiRole;
}
