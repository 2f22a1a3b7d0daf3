/**
 * One honest answer to "which Node does this run on": package.json `engines` is the answer, every
 * installed package (package-lock.json records each one's `engines`) accepts every Node it allows,
 * so `npm ci` prints no EBADENGINE on any of them, the Lambda's runtime is among them, and README
 * says the same. middy 7 declared Node >= 22 while we said 20+: npm warned on every install.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import semver from 'semver';
import { readServerless } from '../../bench/coldstart';

const root = join(__dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { engines: { node: string } };
const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { engines?: { node?: string } | string[] }>;
};
const range = new semver.Range(pkg.engines.node);
/** The oldest release of each `||` branch of the range: where an installed package's own floor bites. */
const floors = range.set.map((branch) => semver.minVersion(new semver.Range(branch.map((c) => c.value).join(' ')))!.version);

describe('supported Node versions', () => {
  it.each(floors)('every installed package accepts Node %s, the oldest of a supported line', (version) => {
    const refusing = Object.entries(lock.packages)
      .filter(
        ([path, p]) =>
          path !== '' && p.engines && !Array.isArray(p.engines) && p.engines.node && !semver.satisfies(version, p.engines.node),
      )
      .map(([path, p]) => `${path.replace(/^.*node_modules\//, '')} wants ${(p.engines as { node: string }).node}`);
    expect(refusing).toEqual([]);
  });

  it('includes the Lambda runtime serverless.yml deploys', () => {
    const runtime = (readServerless() as unknown as { provider: { runtime: string } }).provider.runtime;
    const major = /^nodejs(\d+)\.x$/.exec(runtime)?.[1];
    expect(major).toBeDefined();
    // The newest minor of that line (Lambda patches the runtime in place).
    expect(semver.satisfies(`${major}.99.0`, range)).toBe(true);
  });

  it('is what README says', () => {
    expect(readFileSync(join(root, 'README.md'), 'utf8')).toContain(`Node ${pkg.engines.node}`);
  });
});
