/**
 * A/B of two checkouts of this repository, for changes whose cost is a few microseconds or a few
 * milliseconds and drowns in run-to-run noise when measured run against run (issue 14 used it):
 *
 *   git archive <commit> | tar -x -C <dir>; ln -s "$PWD/node_modules" <dir>/node_modules   # per tree
 *   npx tsx bench/ab-trees.ts pipeline <treeA> <treeB> [rounds]    # from inside one tree (GEO_DB_PATH is cwd-relative)
 *   npx tsx bench/ab-trees.ts coldstart <treeA> <treeB> [runs]
 *
 * pipeline: processRequest + packLines of each tree on the same bench/fixtures bodies, both in one
 * process, interleaved per round (the order alternates), min and median microseconds per request.
 * coldstart: each tree's Lambda bundle built as its serverless.yml says, then `node -e
 * "require(bundle)"` of A and of B alternated with `node -e ''`, medians and ratios (bench/coldstart.ts
 * does the same for one tree).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

const [mode, a, b, n] = process.argv.slice(2);
if (!a || !b || (mode !== 'pipeline' && mode !== 'coldstart'))
  throw new Error('usage: bench/ab-trees.ts pipeline|coldstart <treeA> <treeB> [rounds]');
const trees = [a, b];
const stat = (xs: number[]) => {
  const s = [...xs].sort((x, y) => x - y);
  return { min: s[0]!, median: s[Math.floor(s.length / 2)]! };
};

function pipeline(rounds: number): void {
  const load = (dir: string) => ({
    p: require(`${dir}/handlers/lib/pipeline`),
    pack: require(`${dir}/handlers/lib/pack`),
    fx: require(`${dir}/bench/fixtures`),
  });
  const t = trees.map(load);
  for (const batch of [1, 10, 25, 100]) {
    const reqs = t[1]!.fx.makeRequests(200, batch) as Array<{ body: string; userAgent: string; sourceIp: string }>;
    const configs = t.map((x) => x.fx.benchConfig());
    const per: number[][] = [[], []];
    for (let r = 0; r < rounds; r++) {
      for (const i of r % 2 ? [1, 0] : [0, 1]) {
        const start = process.hrtime.bigint();
        for (const q of reqs)
          t[i]!.pack.packLines(
            t[i]!.p.processRequest(
              { body: q.body, contentType: 'text/plain', userAgent: q.userAgent, sourceIp: q.sourceIp, receivedAt: new Date() },
              configs[i],
            ).lines,
          );
        per[i]!.push(Number(process.hrtime.bigint() - start) / 1000 / reqs.length);
      }
    }
    const [x, y] = per.map(stat);
    console.log(
      `batch ${batch}: A ${x!.min.toFixed(1)} / ${x!.median.toFixed(1)} us, B ${y!.min.toFixed(1)} / ${y!.median.toFixed(1)} us per request (min / median of ${rounds} rounds)`,
    );
  }
}

async function coldstart(runs: number): Promise<void> {
  const out = mkdtempSync(join(tmpdir(), 'ab-coldstart-'));
  const bundles: string[] = [];
  for (const [i, dir] of trees.entries()) {
    const { build } = require(`${dir}/node_modules/esbuild`);
    const { esbuildOptionsFromServerless, COLD_ENV } = require(`${dir}/bench/coldstart`);
    const { entry, ...options } = esbuildOptionsFromServerless();
    const file = join(out, `bundle-${i}.js`);
    await build({ ...options, entryPoints: [entry], outfile: file, logLevel: 'warning' });
    bundles.push(file);
    Object.assign(process.env, COLD_ENV);
    console.log(`${i ? 'B' : 'A'} ${dir}: ${statSync(file).size} bytes`);
  }
  const time = (code: string) => {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, ['-e', code], { stdio: ['ignore', 'ignore', 'pipe'] });
    if (r.status) throw new Error(r.stderr.toString());
    return performance.now() - t0;
  };
  const codes = ['', ...bundles.map((f) => `require(${JSON.stringify(f)})`)];
  for (const c of codes) time(c);
  const t: number[][] = codes.map(() => []);
  for (let k = 0; k < runs; k++) for (const i of k % 2 ? [2, 1, 0] : [0, 1, 2]) t[i]!.push(time(codes[i]!));
  const [e, x, y] = t.map((xs) => stat(xs).median);
  console.log(
    `node -e '' ${e!.toFixed(1)} ms; A ${x!.toFixed(1)} ms = ${(x! / e!).toFixed(2)}x; B ${y!.toFixed(1)} ms = ${(y! / e!).toFixed(2)}x (medians of ${runs})`,
  );
}

if (mode === 'pipeline') pipeline(Number(n ?? 41));
else void coldstart(Number(n ?? 31));
