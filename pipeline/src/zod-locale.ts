/**
 * The domain's schemas use `zod/mini` with English messages: the processors bundle them, and classic zod is ~95 KB
 * of a processor bundle where mini plus one locale is ~15 KB. Each schema module imports `z` from 'zod/mini' itself
 * (re-exporting the namespace object would defeat tree shaking and drag in every locale) and this module for the
 * messages.
 *
 * Setting zod's locale is the package's only side effect at import: `sideEffects` in pipeline/package.json lists this
 * file alone, so bundlers may drop any other module of the package whose exports go unused.
 */
import { config } from 'zod/mini';
import en from 'zod/v4/locales/en.js';

config(en());
