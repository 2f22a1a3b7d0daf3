#!/usr/bin/env node
/**
 * Project rules that type-checking cannot see (`npm run lint`, after `tsc --noEmit`). Each rule
 * names the house-style habit it keeps; a violation prints file:line and exits 1.
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
    read(f).split('\n').forEach((line, i) => {
      const why = test(line, f);
      if (why) problems.push(`${f}:${i + 1}: ${why}`);
    });
  }
};

// Thin handlers, pure core: domain modules import nothing from AWS.
each(/^handlers\/lib\/(?!generated\/).*\.ts$/, (l) =>
  /^\s*import\s(?!type\b).*from\s+'(@aws-sdk\/|@aws-lambda-powertools\/|@middy\/)/.test(l) && 'handlers/lib/ must not import AWS, Powertools or middy (adapters live in handlers/clients/)');

// Exactly one module creates the Firehose client, at module scope.
const creators = files.filter((f) => /^handlers\/.*\.ts$/.test(f) && /new FirehoseClient\(/.test(read(f)));
if (creators.join() !== 'handlers/clients/firehose.ts') problems.push(`FirehoseClient must be created in handlers/clients/firehose.ts only (found in: ${creators.join(', ') || 'none'})`);

// A Lambda entry point reads like its data flow, well under 80 lines.
for (const f of files.filter((x) => /^handlers\/[^/]+\.ts$/.test(x))) {
  const n = read(f).split('\n').length;
  if (n > 80) problems.push(`${f}: ${n} lines; keep entry points under 80 (move logic to handlers/lib/)`);
}

// A tracker that respects the page: no runtime dependencies, no eval, no console noise.
const sdkPkg = JSON.parse(read('client-sdk/package.json') || '{}');
if (sdkPkg.dependencies && Object.keys(sdkPkg.dependencies).length) problems.push('client-sdk/package.json: the SDK has zero runtime dependencies');
if (sdkPkg.sideEffects !== false) problems.push('client-sdk/package.json: sideEffects must be false');
each(/^client-sdk\/src\/.*\.ts$/, (l) => /\beval\(|new Function\(|\bconsole\./.test(l.replace(/\/\/.*$/, '')) && 'no eval, new Function or console in the SDK');

// No absolute paths of a developer's machine in the repo.
each(/./, (l, f) => f !== 'scripts/lint.mjs' && /(^|[\s'"`(=])\/(work|root|home|Users)\/[A-Za-z0-9_.-]+\//.test(l) && 'absolute machine path');

// No secrets or env files committed.
for (const f of files) if (/(^|\/)\.env(\.|$)/.test(f)) problems.push(`${f}: .env files are never committed`);

if (problems.length) {
  console.error(problems.join('\n'));
  console.error(`\n${problems.length} lint problem(s)`);
  process.exit(1);
}
console.log(`lint ok: ${files.length} files`);
