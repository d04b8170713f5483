import type { Role as ApiRole } from '@orderflow/ops-api/schemas';
import { createContext, type ReactNode, useContext } from 'react';

/**
 * The console's view of the signed-in role. `unknown` when the ops API answers no `GET /api/me` (an older
 * deployment): actions then stay enabled and the API's own 403 for viewers is shown.
 */
export type Role = ApiRole | 'unknown';

/** Who is signed in, as the ops API sees it; features read the role from here to gate actions. */
export interface Session {
  actor: string;
  role: Role;
  signOut(): void;
}

const SessionContext = createContext<Session | null>(null);

export function SessionProvider({ session, children }: { session: Session; children: ReactNode }) {
  return <SessionContext.Provider value={session}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession: no SessionProvider above this component');
  return session;
}

/** Only operators redrive or discard; the API enforces it too (403), the console does not offer what would fail. */
export function useCanOperate(): boolean {
  return useSession().role !== 'viewer';
}

export const VIEWER_ACTION_HINT = 'Viewers can inspect but not redrive or discard; sign in with an operator token.';
