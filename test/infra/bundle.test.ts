/**
 * The Lambda bundle as serverless.yml builds it (custom.esbuild, including its plugins): the
 * credential chain Lambda never uses stays out, and the bundle stays under the design's 300 KB.
 * Size is a property of the build output, not a timing, so it is checked here; load time lives in
 * `npm run bench`.
 */
import { build } from 'esbuild';
import { esbuildOptionsFromServerless } from '../../bench/coldstart';

describe('Lambda bundle', () => {
  let inputs: string[];
  let bytes: number;

  beforeAll(async () => {
    const { entry, ...options } = esbuildOptionsFromServerless();
    const r = await build({ ...options, entryPoints: [entry], write: false, metafile: true, outfile: 'ingest.js', logLevel: 'silent' });
    inputs = Object.keys(r.metafile!.inputs);
    bytes = r.outputFiles![0]!.contents.byteLength;
  }, 60_000);

  it('leaves out the default credential chain and its STS/SSO clients (credentials come from the env)', () => {
    expect(
      inputs.filter((f) => /@aws-sdk\/(nested-clients|credential-provider-(node|ini|sso|process|web-identity|http))\//.test(f)),
    ).toEqual([]);
    expect(inputs.some((f) => f.includes('@aws-sdk/client-firehose/'))).toBe(true);
  });

  it('is at most 300 KB minified, AWS SDK included', () => {
    expect(bytes).toBeLessThanOrEqual(300 * 1024);
  });
});
