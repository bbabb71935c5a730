// Module loader hooks for test/daemon-modules.test.ts (registered by module-trace.mjs): appends
// the URL of every ES module the process loads to the file named at registration.
import { appendFileSync } from 'node:fs';

let out;

export function initialize(data) {
  out = data.out;
}

export async function load(url, context, next) {
  appendFileSync(out, `${url}\n`);
  return next(url, context);
}
