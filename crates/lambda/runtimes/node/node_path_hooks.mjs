/**
 * Stratus: ESM resolve hook that makes `import 'pkg'` honour NODE_PATH.
 *
 * Stratus puts a function's dependencies, its layers' `nodejs/node_modules`
 * and an installed AWS SDK v3 in NODE_PATH. CommonJS `require` searches
 * NODE_PATH; the ESM resolver never does. So when the default resolution of a
 * bare specifier fails with ERR_MODULE_NOT_FOUND, this hook retries it from
 * each NODE_PATH folder, in order, and otherwise rethrows the original error
 * (its message names the real importer, as Node's own would).
 *
 * bootstrap.mjs uses this file two ways:
 *  - Node >= 22.15 / 23.5: `module.registerHooks({ resolve: syncResolve })`
 *    after `setSearchPath(...)` (in-thread, synchronous, cheap);
 *  - Node >= 18.19 / 20.6: `module.register(thisFile, { data })`, which loads
 *    this file in the loader thread and calls `initialize` and `resolve`.
 * Older Node versions get no hook (ESM imports then ignore NODE_PATH, as
 * plain Node does).
 */

import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

// One entry per NODE_PATH folder: either a parent URL from which the ESM
// resolver finds `<folder>/<pkg>` (exact ESM semantics, "import" condition),
// or, for folders not named node_modules, a require() rooted there.
let search = [];

export function setSearchPath(dirs) {
  search = dirs.map((dir) =>
    path.basename(dir) === 'node_modules'
      ? // The resolver looks in `dirname(parent)/node_modules`, so a
        // (nonexistent) file beside the folder makes it look in the folder.
        { parentURL: pathToFileURL(path.join(path.dirname(dir), '__stratus_node_path__.mjs')).href }
      : // No parent URL maps onto a folder not called node_modules; fall back
        // to CommonJS resolution, which does search NODE_PATH folders.
        { require: createRequire(path.join(dir, '__stratus_node_path__.js')) },
  );
}

// Bare = a package name: not relative/absolute, not `#imports`, no scheme.
function isBare(specifier) {
  const c = specifier.charCodeAt(0);
  return c !== 46 /* . */ && c !== 47 /* / */ && c !== 35 /* # */ && !specifier.includes(':');
}

function fromCjs(req, specifier) {
  const file = req.resolve(specifier);
  return { url: pathToFileURL(file).href, shortCircuit: true };
}

// Asynchronous hooks for module.register (run in the loader thread).
export async function initialize(data) {
  setSearchPath(data?.dirs ?? []);
}

export async function resolve(specifier, context, nextResolve) {
  try {
    return await nextResolve(specifier, context);
  } catch (err) {
    if (err?.code !== 'ERR_MODULE_NOT_FOUND' || !isBare(specifier)) throw err;
    for (const s of search) {
      try {
        if (s.parentURL) return await nextResolve(specifier, { ...context, parentURL: s.parentURL });
        return fromCjs(s.require, specifier);
      } catch {
        // Not in this folder: try the next one.
      }
    }
    throw err;
  }
}

// Synchronous twin for module.registerHooks. require() failures carry code
// MODULE_NOT_FOUND, not ERR_MODULE_NOT_FOUND, so CommonJS (which already
// honours NODE_PATH) passes straight through.
export function syncResolve(specifier, context, nextResolve) {
  try {
    return nextResolve(specifier, context);
  } catch (err) {
    if (err?.code !== 'ERR_MODULE_NOT_FOUND' || !isBare(specifier)) throw err;
    for (const s of search) {
      try {
        if (s.parentURL) return nextResolve(specifier, { ...context, parentURL: s.parentURL });
        return fromCjs(s.require, specifier);
      } catch {
        // Not in this folder: try the next one.
      }
    }
    throw err;
  }
}
