#!/usr/bin/env node
/**
 * The project rules no standard tool expresses (`npm run lint` runs Biome with biome.json first,
 * then this; README "Lint and types"). Each rule names the house-style habit it keeps; a violation prints
 * file:line and exits 1. What moved to Biome: handlers/lib/ importing AWS, Powertools or middy and
 * the folder boundaries (style/noRestrictedImports), entry points under 80 lines
 * (style/noExcessiveLinesPerFile), no eval / new Function / console in the SDK (security/noGlobalEval,
 * style/noRestrictedGlobals, suspicious/noConsole). What stays here, and why:
 *   - require() across a boundary: noRestrictedImports sees import/export declarations and import(),
 *     not require() or tsx.require(), which the CommonJS scripts and a few tests use.
 *   - exactly one module creates the FirehoseClient: a count across files, not a per-file pattern.
 *   - the SDK's package.json has no dependencies and sideEffects false: a rule on JSON values.
 *   - no absolute machine paths and no .env files: over every file type (Markdown, YAML, SQL too).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { encoding: 'utf8' })
  .split('\n')
  .filter((f) => f && /\.(ts|mjs|js|json|yml|md|sql|html)$/.test(f) && f !== 'package-lock.json');
const problems = [];
const read = (f) => {
  try {
    return readFileSync(f, 'utf8');
  } catch {
    return ''; // deleted in the work tree
  }
};
const each = (pattern, test) => {
  for (const f of files.filter((x) => pattern.test(x))) {
    read(f)
      .split('\n')
      .forEach((line, i) => {
        const why = test(line, f);
        if (why) problems.push(`${f}:${i + 1}: ${why}`);
      });
  }
};

// Dependencies flow one way (the same boundaries as biome.json's noRestrictedImports), for require().
const required = (l) => [...l.matchAll(/\brequire\(\s*['"`]([^'"`]+)['"`]/g)].map((m) => m[1]);
const boundaries = [
  [/^(?!test\/)/, /(^|\/)test\//, 'only test/ requires test/'],
  [/^local\//, /(^|\/)bench\//, 'local/ does not require bench/'],
  [/^local\/report(\.ts$|\/)/, /(^|\/)simulator(\/|$)/, "the report does not take the simulator's truth"],
  [
    /^handlers\/lib\//,
    /^(@aws-sdk|@aws-lambda-powertools|@middy)\//,
    'handlers/lib/ must not require AWS, Powertools or middy (adapters live in handlers/clients/)',
  ],
];
each(/\.(ts|js|mjs)$/, (l, f) => {
  for (const spec of required(l)) for (const [from, to, why] of boundaries) if (from.test(f) && to.test(spec)) return why;
});

// Exactly one module creates the Firehose client, at module scope.
const creators = files.filter((f) => /^handlers\/.*\.ts$/.test(f) && /new FirehoseClient\(/.test(read(f)));
if (creators.join() !== 'handlers/clients/firehose.ts')
  problems.push(`FirehoseClient must be created in handlers/clients/firehose.ts only (found in: ${creators.join(', ') || 'none'})`);

// A tracker that respects the page: no runtime dependencies, nothing kept for side effects.
const sdkPkg = JSON.parse(read('client-sdk/package.json') || '{}');
if (sdkPkg.dependencies && Object.keys(sdkPkg.dependencies).length)
  problems.push('client-sdk/package.json: the SDK has zero runtime dependencies');
if (sdkPkg.sideEffects !== false) problems.push('client-sdk/package.json: sideEffects must be false');

// No absolute paths of a developer's machine in the repo.
each(
  /./,
  (l, f) => f !== 'scripts/lint.mjs' && /(^|[\s'"`(=])\/(work|root|home|Users)\/[A-Za-z0-9_.-]+\//.test(l) && 'absolute machine path',
);

// No secrets or env files committed.
for (const f of files) if (/(^|\/)\.env(\.|$)/.test(f)) problems.push(`${f}: .env files are never committed`);

if (problems.length) {
  console.error(problems.join('\n'));
  console.error(`\n${problems.length} lint problem(s)`);
  process.exit(1);
}
console.log(`lint ok: ${files.length} files`);
