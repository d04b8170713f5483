import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { render } from '@testing-library/react';
import type { ReactNode } from 'react';
import { createMemoryRouter, RouterProvider, useLocation } from 'react-router';
import { createApiClient } from '../../src/lib/api-client.ts';
import { ApiProvider } from '../../src/lib/api-context.tsx';
import { type Role, SessionProvider } from '../../src/lib/session.tsx';

/** Shows the current URL so tests can assert that view state went to the query string. */
function LocationProbe() {
  const location = useLocation();
  return <output data-testid="location">{`${location.pathname}${location.search}`}</output>;
}

/** Renders one view at a URL, signed in with a role, against the (fake) ops API at `baseUrl`. */
export function renderView(
  ui: ReactNode,
  { path, url, baseUrl, role = 'operator' }: { path: string; url: string; baseUrl: string; role?: Role },
) {
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  const api = createApiClient({ baseUrl, getToken: () => 'test-token' });
  const router = createMemoryRouter(
    [
      {
        path,
        element: (
          <>
            {ui}
            <LocationProbe />
          </>
        ),
      },
      { path: '*', element: <LocationProbe /> },
    ],
    { initialEntries: [url] },
  );
  const result = render(
    <QueryClientProvider client={queryClient}>
      <ApiProvider client={api}>
        <SessionProvider session={{ actor: 'tester', role, signOut: () => undefined }}>
          <RouterProvider router={router} />
        </SessionProvider>
      </ApiProvider>
    </QueryClientProvider>,
  );
  return { ...result, router, queryClient };
}
