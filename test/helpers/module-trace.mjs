// `node --import ./test/helpers/module-trace.mjs …` with EUCANETD_MODULE_TRACE=FILE: writes to
// FILE every module the process loads: the ES modules as they load (loader hooks), and at exit
// the CommonJS modules (require.cache: packages such as etcd3 and prom-client are CommonJS).
import { appendFileSync, writeFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';

const out = process.env.EUCANETD_MODULE_TRACE;
if (out) {
  writeFileSync(out, '');
  register('./module-trace-hooks.mjs', import.meta.url, { data: { out } });
  const cache = createRequire(import.meta.url).cache;
  process.on('exit', () => {
    appendFileSync(out, Object.keys(cache).map((p) => `cjs:${p}\n`).join(''));
  });
}
