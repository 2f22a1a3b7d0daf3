#!/usr/bin/env node
/**
 * Builds the SDK into client-sdk/dist/ and enforces the size budgets (min+gzip): exits 1 when a
 * build is over budget, so `npm test` fails in CI. The two script builds are also written under
 * content-hashed names, listed with their SRI hash in dist/manifest.json: what the deploy uploads
 * behind CloudFront with year-long immutable caching, what the SdkSnippet output and the local
 * stack's /sdk/ serve (scripts/cfn-edge.js, local/static.ts).
 *   node client-sdk/build.mjs          build + budget check
 *   node client-sdk/build.mjs --size   build + table of min, min+gzip and min+brotli per file
 *   node client-sdk/build.mjs --outdir DIR   into DIR instead of dist/ (local/sdk-build.ts builds
 *                                      into a temporary folder, then renames the files into dist/)
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const src = join(here, 'src');
const outdirArg = process.argv.indexOf('--outdir');
const dist = outdirArg > 0 ? process.argv[outdirArg + 1] : join(here, 'dist');
const { version } = JSON.parse(readFileSync(join(here, 'package.json'), 'utf8'));

/** Feature flags per build: a false flag compiles the feature out (see src/flags.d.ts). */
const FULL = {
  __CS_CLICKS__: 'true',
  __CS_ENGAGE__: 'true',
  __CS_PRIVACY__: 'true',
  __CS_CAMPAIGN__: 'true',
  __CS_TABS__: 'true',
  __CS_RARE__: 'true',
};
const CORE = {
  __CS_CLICKS__: 'false',
  __CS_ENGAGE__: 'false',
  __CS_PRIVACY__: 'false',
  __CS_CAMPAIGN__: 'false',
  __CS_TABS__: 'false',
  __CS_RARE__: 'false',
};
/** The script builds run only in a browser; the ESM build may be imported where there is no window. */
const SCRIPT = { __CS_MODULE__: 'false' };

/** Budgets in bytes, min+gzip (issue 3). */
const BUDGETS = {
  'clickstream.min.js': 4096,
  'clickstream.core.min.js': 2560,
  'loader.min.js': 400,
};

const common = {
  bundle: true,
  minify: true,
  // Every browser with fetch keepalive, Web Locks and optional chaining; no down-levelling bloat.
  target: ['es2020', 'chrome80', 'firefox80', 'safari14'],
  // esbuild counts optional chaining from Chrome 91 only, for one bug in Chrome 80-90: an optional
  // call with a spread argument that is not the last fails (crbug.com/42201552; MDN browser-compat-data
  // note, "A call with a non-final spread argument in an optional chain fails in Chrome 80 through
  // 90"). The SDK has no such call (out() refuses a build with one), so `?.` stays: 20 B min+gzip
  // of the core build, which the back/forward cache fix needed.
  supported: { 'optional-chain': true },
  legalComments: 'none',
  logLevel: 'warning',
  write: false,
  // The repo's tsconfig is for type-checking; its strict flag would only add "use strict" bytes.
  tsconfigRaw: {},
  // Internal property names end in '_' (delivery.ts Flight) and are shortened like local names; the
  // wire format, stored formats and options keep theirs.
  mangleProps: /_$/,
};
const define = (flags) => ({ ...flags, __CS_VERSION__: JSON.stringify(version) });

async function out(options, file) {
  const r = await build({ ...common, ...options });
  const code = `${r.outputFiles[0].text.trimEnd()}\n`;
  // The Chrome 80-90 bug above: `a?.f(...x, y)` or `a?.(...x, y)`. Conservative: any spread before a comma in an optional call.
  const bad = /\?\.[\w$.]*\([^()]*\.\.\.[^()]*,/.exec(code);
  if (bad) throw new Error(`${file}: an optional call with a spread argument that is not the last (${bad[0]}) fails in Chrome 80-90`);
  writeFileSync(join(dist, file), code);
  return code;
}

rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });

const files = {
  'clickstream.min.js': await out(
    { entryPoints: [join(src, 'iife.ts')], format: 'iife', define: define({ ...FULL, ...SCRIPT }) },
    'clickstream.min.js',
  ),
  'clickstream.core.min.js': await out(
    { entryPoints: [join(src, 'iife.ts')], format: 'iife', define: define({ ...CORE, ...SCRIPT }) },
    'clickstream.core.min.js',
  ),
  'loader.min.js': await out(
    { entryPoints: [join(src, 'loader.ts')], format: 'esm', define: { __CS_SRC__: JSON.stringify('/sdk/clickstream.min.js') } },
    'loader.min.js',
  ),
};
/**
 * Content-hashed copies and their Subresource Integrity hash (W3C SRI: "sha384-" + base64 digest).
 * A new build of other bytes gets another name, so a name can be cached for a year as immutable and
 * pages holding an older snippet keep loading the exact file their integrity names.
 */
const HASHED = ['clickstream.min.js', 'clickstream.core.min.js'];
const manifest = { version, files: {} };
for (const file of HASHED) {
  const code = files[file];
  const hashed = file.replace(/\.min\.js$/, `.${createHash('sha256').update(code).digest('hex').slice(0, 16)}.min.js`);
  writeFileSync(join(dist, hashed), code);
  manifest.files[file] = {
    file: hashed,
    integrity: `sha384-${createHash('sha384').update(code).digest('base64')}`,
    bytes: Buffer.byteLength(code),
  };
}
writeFileSync(join(dist, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);

// ESM for bundlers: every feature in; the application's bundler tree-shakes what it does not import.
await out(
  {
    entryPoints: [join(src, 'index.ts')],
    format: 'esm',
    define: define({ ...FULL, __CS_MODULE__: 'true' }),
    minify: false,
    target: 'es2020',
  },
  'clickstream.mjs',
);

// Type declarations for the ESM build. The internal event type comes from schema/ by a type-only
// import; the public types must not, so the published .d.ts stands alone (checked below).
const tmp = join(dist, '.types');
execFileSync(
  process.execPath,
  [
    join(here, '..', 'node_modules', 'typescript', 'bin', 'tsc'),
    join(src, 'index.ts'),
    join(src, 'flags.d.ts'),
    '--declaration',
    '--emitDeclarationOnly',
    '--strict',
    '--skipLibCheck',
    '--target',
    'es2022',
    '--module',
    'preserve',
    '--moduleResolution',
    'bundler',
    '--lib',
    'es2023,dom,dom.iterable',
    '--rootDir',
    join(here, '..'),
    '--outDir',
    tmp,
  ],
  { stdio: 'inherit' },
);
mkdirSync(join(dist, 'types'));
const sdkTypes = join(tmp, relative(join(here, '..'), src));
for (const f of ['index.d.ts']) {
  const dts = readFileSync(join(sdkTypes, f), 'utf8');
  if (/from '\.\.\//.test(dts)) throw new Error(`${f} imports outside the SDK; the published types would not resolve`);
  writeFileSync(join(dist, 'types', f), dts);
}
rmSync(tmp, { recursive: true, force: true });

const rows = Object.entries(files).map(([file, code]) => {
  const buf = Buffer.from(code);
  return {
    file,
    min: buf.length,
    gzip: gzipSync(buf, { level: 9 }).length,
    brotli: brotliCompressSync(buf, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
    budget: BUDGETS[file],
  };
});

if (process.argv.includes('--size')) {
  const pad = (s, n) => String(s).padStart(n);
  console.log(`${'file'.padEnd(26)}${pad('min', 8)}${pad('min+gzip', 10)}${pad('min+br', 8)}${pad('budget', 8)}`);
  for (const r of rows) console.log(`${r.file.padEnd(26)}${pad(r.min, 8)}${pad(r.gzip, 10)}${pad(r.brotli, 8)}${pad(r.budget, 8)}`);
}
const over = rows.filter((r) => r.gzip > r.budget);
for (const r of rows) if (!over.includes(r)) console.log(`size ok: ${r.file} ${r.gzip} B min+gzip <= ${r.budget}`);
for (const r of over) console.error(`SIZE BUDGET EXCEEDED: ${r.file} is ${r.gzip} B min+gzip, budget ${r.budget} B`);
process.exit(over.length ? 1 : 0);
