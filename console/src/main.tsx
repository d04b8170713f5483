import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app/app.tsx';
import './app/styles.css';
import { loadRuntimeConfig } from './lib/runtime-config.ts';

const container = document.getElementById('root');
if (!container) throw new Error('index.html has no #root element');
const root = createRoot(container);

loadRuntimeConfig()
  .then((config) =>
    root.render(
      <StrictMode>
        <App config={config} />
      </StrictMode>,
    ),
  )
  .catch((error: unknown) =>
    root.render(
      <main id="main" className="content">
        <h1>Orderflow console</h1>
        <p role="alert" className="error-text">
          Cannot start: {(error as Error).message}
        </p>
      </main>,
    ),
  );
