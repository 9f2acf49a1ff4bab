/**
 * Where ringkafka finds its own files: the worker threads' entry (started through piscina) and the packages it
 * requires rather than imports (piscina, the native addons), from each module's `import.meta.url`. Bundled into one
 * file, an application no longer has them where that URL points (a CommonJS bundle has no `import.meta.url` at
 * all), and it failed at load with Node's "The argument 'filename' must be a file URL … Received undefined", or
 * "Cannot find module 'piscina'", naming neither ringkafka nor what to do.
 */
import { createRequire } from 'node:module';

export const BUNDLING_HINT =
  'ringkafka starts worker threads from its own files and loads native addons, so it cannot be bundled into one ' +
  'file: mark it external (esbuild --external:ringkafka, webpack externals, Rollup or Vite external) and ship ' +
  'node_modules/ringkafka with its dependencies';

/** A module's own URL (its `import.meta.url`), or an error that says ringkafka was bundled. */
export function ownUrl(url: string | undefined): string {
  if (typeof url !== 'string' || url === '') throw new Error(`ringkafka's modules have no import.meta.url: ${BUNDLING_HINT}`);
  return url;
}

/**
 * Requires `name` from the module at `url` (its `import.meta.url`); a package that cannot be found is said to be
 * ringkafka's dependency, with the bundling hint: a broken install says the same with Node's error as the cause.
 * The error keeps Node's code, MODULE_NOT_FOUND, which code that loads optional modules tests.
 */
export function requireOwn<T>(url: string | undefined, name: string): T {
  try {
    return createRequire(ownUrl(url))(name) as T;
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'MODULE_NOT_FOUND') throw error;
    const notFound = new Error(`ringkafka could not load its dependency ${name}; if ringkafka was bundled: ${BUNDLING_HINT}`, { cause: error });
    throw Object.assign(notFound, { code: 'MODULE_NOT_FOUND' });
  }
}
