/**
 * Dependencies flow one way, and the linter is what says so (issue 16): for each boundary, a file
 * with one forbidden import makes Biome (biome.json, noRestrictedImports) fail, and the same file
 * with an allowed import passes; require() across a boundary, which that rule does not see, fails
 * scripts/lint.mjs. The per-runtime tsconfigs: the SDK's has no Node types, the Lambda's no DOM.
 *
 * The files are planted in a scratch project (the real biome.json and .gitignore, node_modules
 * linked), not in this checkout: a planted violation here would fail other people's lint runs
 * and wake `npm start`'s rebuild watcher while it exists.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const root = join(__dirname, '..', '..');
const biome = join(root, 'node_modules', '.bin', 'biome');
const tsc = join(root, 'node_modules', '.bin', 'tsc');
let scratch: string;

const plant = (file: string, text: string): void => {
  mkdirSync(dirname(join(scratch, file)), { recursive: true });
  writeFileSync(join(scratch, file), `${text}\n`);
};
const run = (cmd: string, args: string[], cwd: string) => {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
};
// As `npm run lint` runs it: warnings fail too.
const lint = (file: string) => run(biome, ['lint', '--error-on-warnings', '--colors=off', '--max-diagnostics=50', file], scratch);
/** The import plus a use of what it imports, so the only finding can be the boundary. */
const used = (line: string): string => {
  const m = /^import (type )?(?:\{ (\w+) \}|(\w+)) from/.exec(line);
  if (!m) return line;
  return m[1] ? `${line}\nexport type Used = ${m[2] ?? m[3]};` : `${line}\nexport const used = ${m[2] ?? m[3]};`;
};

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'clickstream-lint-'));
  copyFileSync(join(root, 'biome.json'), join(scratch, 'biome.json'));
  copyFileSync(join(root, '.gitignore'), join(scratch, '.gitignore'));
  symlinkSync(join(root, 'node_modules'), join(scratch, 'node_modules'), 'dir');
  // biome.json reads .gitignore through git, as in the checkout.
  expect(run('git', ['init', '-q'], scratch).code).toBe(0);
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

// [boundary, file, forbidden import, allowed import]
const BOUNDARIES: Array<[string, string, string, string]> = [
  [
    'nothing outside test/ imports test/',
    'scripts/plant.ts',
    "import { eventually } from '../test/support/stack';",
    "import { startLocalStack } from '../local/stack-process';",
  ],
  [
    'nothing outside test/ imports test/ (the Lambda)',
    'handlers/plant.ts',
    "import { fixture } from '../test/events/fixture';",
    "import { sendTo } from './clients/firehose';",
  ],
  [
    'bench/ does not import test/support',
    'bench/plant.ts',
    "import { CHROMIUM } from '../test/support/browser';",
    "import { CHROMIUM } from '../local/chromium';",
  ],
  ['local/ does not import bench/', 'local/plant.ts', "import { PRICES } from '../bench/prices';", "import { PRICES } from './prices';"],
  [
    'local/ does not import bench/ (a subfolder)',
    'local/athena-local/plant.ts',
    "export { TB } from '../../bench/prices';",
    "export { TB } from '../prices';",
  ],
  [
    'local/ does not import test/',
    'local/simulator/plant.ts',
    "import { readRows } from '../../test/support/stack';",
    "import { readRows } from '../stack-process';",
  ],
  [
    "the report does not take its funnel from the simulator's truth",
    'local/report.ts',
    "import { DEMO_FUNNEL } from './simulator/truth';",
    "import { DEMO_FUNNEL } from './demo/funnel';",
  ],
  [
    "the report does not take its funnel from the simulator's truth (its modules)",
    'local/report/plant.ts',
    "import { TRUTH } from '../simulator/truth';",
    "import { DEMO_FUNNEL } from '../demo/funnel';",
  ],
  [
    'handlers/lib/ imports no AWS SDK',
    'handlers/lib/plant.ts',
    "import { FirehoseClient } from '@aws-sdk/client-firehose';",
    "import { packLines } from './pack';",
  ],
  [
    'handlers/lib/ imports no AWS SDK types either',
    'handlers/lib/plant-types.ts',
    "import type { PutRecordBatchCommandInput } from '@aws-sdk/client-firehose';",
    "import type { PackedRecord } from './pack';",
  ],
  [
    'handlers/lib/ imports no Powertools',
    'handlers/lib/plant-logger.ts',
    "import { Logger } from '@aws-lambda-powertools/logger';",
    "import { configFromEnv } from './config';",
  ],
  [
    'handlers/lib/ imports no AWS SDK by a deep path',
    'handlers/lib/plant-deep.ts',
    "import type { PutRecordBatchCommandInput } from '@aws-sdk/client-firehose/dist-types/index';",
    "import type { PackedRecord } from './pack';",
  ],
  [
    'handlers/lib/ imports no Smithy (the AWS SDK runtime)',
    'handlers/lib/plant-smithy.ts',
    "import { NodeHttpHandler } from '@smithy/node-http-handler';",
    "import { configFromEnv } from './config';",
  ],
  [
    'handlers/lib/ imports no middy',
    'handlers/lib/plant-middy.ts',
    "import middy from '@middy/core';",
    "import { enrichEvent } from './enrich';",
  ],
];

describe('one-way dependencies, enforced by Biome', () => {
  it.each(BOUNDARIES)('%s: %s fails with the forbidden import and passes with the allowed one', (_name, file, forbidden, allowed) => {
    plant(file, used(forbidden));
    const bad = lint(file);
    expect(bad.out).toContain('lint/style/noRestrictedImports');
    expect(bad.code).not.toBe(0);

    plant(file, used(allowed));
    const good = lint(file);
    expect(good.out).not.toContain('noRestrictedImports');
    expect(good.code).toBe(0);
  });

  it('test/ may import test/ (the rule is about who imports it)', () => {
    plant(
      'test/unit/plant.test.ts',
      "import { eventually } from '../support/stack';\nimport { readRows } from '../../local/stack-process';\nexport const used = [eventually, readRows];",
    );
    expect(lint('test/unit/plant.test.ts').code).toBe(0);
  });

  it('the checkout itself keeps every boundary', () => {
    const r = run(biome, ['lint', '--colors=off', '--only=style/noRestrictedImports'], root);
    expect(r.out).not.toContain('noRestrictedImports');
    expect(r.code).toBe(0);
  });
});

describe('require() across a boundary, which noRestrictedImports does not see, fails scripts/lint.mjs', () => {
  // [file, forbidden require, the message lint.mjs gives]
  const REQUIRES: Array<[string, string, string]> = [
    ['scripts/plant-require.js', "const { startLocalStack } = require('../test/support/stack');", 'only test/ requires test/'],
    ['local/plant-require.ts', "const { PRICES } = require('../bench/prices');", 'local/ does not require bench/'],
    [
      'local/report/plant-require.ts',
      "const truth = tsx.require('../simulator/truth.ts', __filename);",
      "the report does not take the simulator's truth",
    ],
    [
      'handlers/lib/plant-require.ts',
      "const { FirehoseClient } = require('@aws-sdk/client-firehose');",
      'handlers/lib/ must not require AWS',
    ],
  ];
  it.each(REQUIRES)('%s', (file, forbidden, message) => {
    // lint.mjs lists files with git, so it also checks rules that need the real tree (the Firehose
    // client, the SDK's package.json): only the planted file's lines matter here.
    plant(file, forbidden);
    expect(run(process.execPath, [join(root, 'scripts', 'lint.mjs')], scratch).out).toContain(`${file}:1: ${message}`);
    plant(file, '// nothing required');
    expect(run(process.execPath, [join(root, 'scripts', 'lint.mjs')], scratch).out).not.toContain(file);
  });
});

describe('each runtime type-checks with its own types', () => {
  // Two files per project: one uses what the runtime has, one what it has not; only the second fails.
  const check = (project: string, own: string, foreign: string) => {
    const dir = join(scratch, 'tsc', project);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'own.ts'), `${own}\n`);
    writeFileSync(join(dir, 'foreign.ts'), `${foreign}\n`);
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({ extends: join(root, project, 'tsconfig.json'), include: ['own.ts', 'foreign.ts'] }),
    );
    const r = run(tsc, ['-p', dir], dir);
    return r.out.split('\n').filter((l) => /error TS/.test(l));
  };

  it('the SDK sees the DOM and no Node types', () => {
    const errors = check(
      'client-sdk',
      'export const title: string = document.title;',
      "export const region = process.env.AWS_REGION ?? Buffer.from('x').length;",
    );
    expect(errors.filter((e) => e.startsWith('own.ts'))).toEqual([]);
    expect(errors.join('\n')).toMatch(/foreign\.ts.*Cannot find name 'process'/);
    expect(errors.join('\n')).toMatch(/foreign\.ts.*Cannot find name 'Buffer'/);
  });

  it('the Lambda sees Node and no DOM', () => {
    const errors = check(
      'handlers',
      "export const region = process.env.AWS_REGION ?? Buffer.from('x').length;",
      'export const title: string = document.title;',
    );
    expect(errors.filter((e) => e.startsWith('own.ts'))).toEqual([]);
    expect(errors.join('\n')).toMatch(/foreign\.ts.*Cannot find name 'document'/);
  });
});
