import { useState } from 'react';
import { RouterProvider } from 'react-router/dom';
import type { RuntimeConfig } from '../lib/runtime-config.ts';
import { AppErrorBoundary } from './error-boundary.tsx';
import { AppProviders, createQueryClient } from './providers.tsx';
import { createConsoleRouter } from './router.tsx';

export function App({ config }: { config: RuntimeConfig }) {
  const [queryClient] = useState(createQueryClient);
  const [router] = useState(() => createConsoleRouter(config));
  return (
    <AppErrorBoundary>
      <AppProviders client={queryClient}>
        <RouterProvider router={router} />
      </AppProviders>
    </AppErrorBoundary>
  );
}
