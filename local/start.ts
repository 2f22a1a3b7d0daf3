/**
 * `npm start`: the whole pipeline on one machine, no AWS account.
 *   API       local/api-gateway.ts (API Gateway's CORS, error and timeout answers) in front of
 *             serverless offline (same serverless.yml, same handler), stage `local`   PORT (3000)
 *   Firehose  local/firehose/server.ts, configured from serverless.yml, into LOCAL_DATA_DIR (.data)
 *   Demo      the restaurant site with the SDK, and the local edge (/sdk/, /v1/)         DEMO_PORT (8080)
 * Settings: LOCAL_BUFFER_SECONDS (default: the streams' IntervalInSeconds), LOCAL_FIREHOSE_FAULTS
 * ("throttle=0.2,partial=0.2,5xx=0.1"), LOCAL_FIREHOSE_QUOTA (unset: the Direct PUT quota of
 * serverless.yml's region; "off"; or MiB/s), FIREHOSE_PORT (0 = any free port), LOCAL_PARAMS
 * ("retryAfterSeconds=5,urlDropQuery=true": serverless.yml params for the local stage, as
 * `--param` gives them to a deploy).
 * It builds the SDK first when client-sdk/dist/ is missing or stale, so the demo site can record.
 * Ctrl-C stops the API, then writes every buffered record: nothing acknowledged is lost.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { startApiGateway } from './api-gateway';
import { FirehoseStandIn, parseFaults } from './firehose/server';
import { freePort } from './net';
import { ensureSdkBuilt } from './sdk-build';
import { readHttpApi, readRegion, readStreams } from './serverless-config';
import { quotaFromSetting } from './firehose/quota';
import { startStatic } from './static';

const env = process.env;
const port = Number(env.PORT ?? 3000);
const dataDir = resolve(env.LOCAL_DATA_DIR ?? '.data');
const bufferSeconds = env.LOCAL_BUFFER_SECONDS ? Number(env.LOCAL_BUFFER_SECONDS) : undefined;
const STAGE = 'local';

async function waitForApi(url: string, child: ChildProcess, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`serverless offline exited with code ${child.exitCode}`);
    try {
      // Any HTTP answer means the route table is up (GET is not routed: 404/405).
      await fetch(url, { method: 'GET', signal: AbortSignal.timeout(1000) });
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new Error(`serverless offline did not answer on ${url} within ${timeoutMs / 1000} s`);
}

/** LOCAL_PARAMS "a=1,b=x" -> ['a=1', 'b=x']; a malformed entry stops the start with its reason. */
function parseParams(spec: string | undefined): string[] {
  const out = (spec ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const p of out) if (!/^[A-Za-z][A-Za-z0-9]*=/.test(p)) throw new Error(`LOCAL_PARAMS: "${p}" is not name=value`);
  return out;
}

async function main() {
  const root = join(__dirname, '..');
  ensureSdkBuilt(join(root, 'client-sdk'));
  const firehose = new FirehoseStandIn({
    dataDir,
    streams: readStreams(STAGE),
    bufferSeconds,
    faults: parseFaults(env.LOCAL_FIREHOSE_FAULTS),
    quota: quotaFromSetting(env.LOCAL_FIREHOSE_QUOTA, readRegion(STAGE)),
  });
  const fh = await firehose.listen(Number(env.FIREHOSE_PORT ?? 0));
  const apiUrl = `http://localhost:${port}`;
  const demo = await startStatic({ port: Number(env.DEMO_PORT ?? 8080), apiUrl, dataDir });

  // Offline listens on a private port; only the API Gateway stand-in faces clients.
  const offlinePort = await freePort();
  const params = parseParams(env.LOCAL_PARAMS);
  const offline = spawn(
    process.execPath,
    [
      join(root, 'node_modules', 'osls', 'bin', 'serverless.js'),
      'offline',
      'start',
      '--stage',
      STAGE,
      '--host',
      '127.0.0.1',
      '--httpPort',
      String(offlinePort),
      '--lambdaPort',
      String(await freePort()),
      '--localEnvironment',
      ...params.map((p) => `--param=${p}`),
    ],
    {
      cwd: root,
      stdio: ['ignore', env.LOCAL_QUIET ? 'ignore' : 'inherit', 'inherit'],
      env: {
        ...env,
        FIREHOSE_ENDPOINT: fh.url,
        // Its own build folder: `npm run package` deletes .esbuild/ (the default) wholesale, which
        // would take the handler away from a running stack.
        CLICKSTREAM_BUILD_DIR: env.CLICKSTREAM_BUILD_DIR ?? join('.local-build', 'offline'),
        // The SDK signs requests; the stand-in does not check signatures.
        AWS_ACCESS_KEY_ID: env.AWS_ACCESS_KEY_ID ?? 'local',
        AWS_SECRET_ACCESS_KEY: env.AWS_SECRET_ACCESS_KEY ?? 'local',
        AWS_REGION: env.AWS_REGION ?? 'us-east-1',
        POWERTOOLS_METRICS_DISABLED: 'true',
        POWERTOOLS_LOG_LEVEL: env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
        SLS_TELEMETRY_DISABLED: '1',
        SLS_NOTIFICATIONS_MODE: 'off',
        // The AWS SDK warns on Node < 22 about its releases after January 2027; the Lambda runs
        // nodejs22.x, and the lockfile pins releases that run on 20 (README "Node versions").
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
    },
  );
  let gateway: Awaited<ReturnType<typeof startApiGateway>> | undefined;

  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    await gateway?.close();
    if (offline.exitCode === null && offline.pid) {
      offline.kill('SIGTERM');
      await new Promise((r) => {
        offline.once('exit', r);
        setTimeout(r, 5000);
      });
    }
    await firehose.close();
    demo.server.close();
    console.log(`local stack stopped; buffers written to ${dataDir}`);
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));
  offline.on('exit', (code) => {
    if (!stopping) {
      console.error(`serverless offline exited (${code})`);
      void stop(1);
    }
  });

  await waitForApi(`http://127.0.0.1:${offlinePort}/v1/events`, offline);
  gateway = await startApiGateway({ port, target: `http://127.0.0.1:${offlinePort}`, http: await readHttpApi(STAGE) });
  if (fh.replayed) console.log(`replayed ${fh.replayed} acknowledged records from the write-ahead log`);
  console.log(`\nClickstream local stack is up:
  API       POST ${apiUrl}/v1/events   (site_id "demo"; the port serverless offline prints above is
            internal: clients go through the API Gateway stand-in on ${port})
  Demo      ${demo.url}/   (also the local edge: /sdk/<content-hashed name> and POST /v1/events on this
            one origin, as the deploy's CloudFront serves them; local/edge.ts)
  Firehose  ${fh.url}   buffering ${bufferSeconds ?? readStreams(STAGE)[0]?.intervalSeconds} s into ${dataDir}/events/dt=YYYY-MM-DD/hour=HH/
  Ctrl-C flushes buffers and stops.\n`);
  // One machine-readable line for local/stack-process.ts.
  console.log(`CLICKSTREAM_READY ${JSON.stringify({ apiUrl, demoUrl: demo.url, edgeUrl: demo.url, firehoseUrl: fh.url, dataDir })}`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
