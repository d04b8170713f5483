import { CONSOLE_ROUTES } from '@orderflow/pipeline/facts';
import { Suspense } from 'react';
import { NavLink, Outlet, useNavigation } from 'react-router';
import { Loading } from '../components/query-state.tsx';
import { useSession } from '../lib/session.tsx';

const NAV = [
  { to: CONSOLE_ROUTES.overview, label: 'Overview' },
  { to: CONSOLE_ROUTES.dlqs, label: 'Dead-letter queues' },
  { to: CONSOLE_ROUTES.metrics, label: 'Metrics' },
  { to: CONSOLE_ROUTES.alarms, label: 'Alarms' },
  { to: CONSOLE_ROUTES.filterLab, label: 'Filter lab' },
  { to: CONSOLE_ROUTES.audit, label: 'Audit log' },
  { to: CONSOLE_ROUTES.inbox, label: 'On-call inbox' },
] as const;

export function Layout() {
  const session = useSession();
  const navigation = useNavigation();
  return (
    <>
      <a href="#main" className="skip-link">
        Skip to content
      </a>
      <header className="topbar">
        <span className="brand">Orderflow</span>
        <nav aria-label="Views">
          <ul>
            {NAV.map((item) => (
              <li key={item.to}>
                <NavLink to={item.to} end={item.to === '/'}>
                  {item.label}
                </NavLink>
              </li>
            ))}
          </ul>
        </nav>
        <span className="who">
          {session.actor} <span className="badge">{session.role}</span>
          <button type="button" onClick={session.signOut}>
            Sign out
          </button>
        </span>
      </header>
      <main id="main" className="content" tabIndex={-1} aria-busy={navigation.state === 'loading'}>
        <Suspense fallback={<Loading what="the view" />}>
          <Outlet />
        </Suspense>
      </main>
    </>
  );
}
