import '@testing-library/jest-dom/vitest';
import { cleanup } from '@testing-library/react';
import { afterEach } from 'vitest';

// jsdom does no layout, so every element measures 0×0. The virtualized table's scroll container gets the size its
// CSS gives it in a browser, so the virtualizer computes a real visible range.
const layoutSize = { clientHeight: 480, clientWidth: 1000 } as const;
for (const [property, size] of Object.entries(layoutSize)) {
  const original = Object.getOwnPropertyDescriptor(Element.prototype, property);
  Object.defineProperty(Element.prototype, property, {
    configurable: true,
    get(this: Element) {
      return this.classList.contains('table-scroll') ? size : (original?.get?.call(this) ?? 0);
    },
  });
}

afterEach(() => {
  cleanup();
  sessionStorage.clear();
});
