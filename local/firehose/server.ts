/**
 * A Firehose-compatible HTTP service for the local stack. It speaks the JSON 1.1 protocol that
 * @aws-sdk/client-firehose uses (X-Amz-Target: Firehose_20150804.<Operation>): PutRecord,
 * PutRecordBatch, DescribeDeliveryStream and ListDeliveryStreams. It buffers per stream by the
 * BufferingHints in serverless.yml and writes gzip objects with Firehose's key layout (layout.ts).
 *
 * Unlike the real service it never loses what it acknowledged, even when killed: every accepted
 * record is appended to a write-ahead log before the answer, and replayed on start.
 * Fault injection (for tests): throttling (HTTP 400 ServiceUnavailableException, as Firehose
 * answers when a stream is over its limits), partial failure (FailedPutCount > 0), and HTTP 500.
 */
import { randomUUID } from 'node:crypto';
import { appendFileSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { StreamConfig } from '../serverless-config';
import { objectKey } from './layout';
import { StreamThroughput, type DirectPutQuota } from './quota';

export interface FaultConfig {
  /** Share of calls answered with a throttling error. */
  throttle?: number;
  /** Share of records in a successful call that fail (FailedPutCount). */
  partial?: number;
  /** Share of calls answered with HTTP 500. */
  serverError?: number;
}

/** "throttle=0.2,partial=0.2,serverError=0.1" (also accepts 5xx=) */
export function parseFaults(spec: string | undefined): FaultConfig {
  const out: FaultConfig = {};
  for (const part of (spec ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [k, v] = part.split('=');
    const rate = Number(v);
    if (!(rate >= 0 && rate <= 1)) throw new Error(`LOCAL_FIREHOSE_FAULTS: ${part}: rate must be between 0 and 1`);
    if (k === 'throttle') out.throttle = rate;
    else if (k === 'partial') out.partial = rate;
    else if (k === 'serverError' || k === '5xx') out.serverError = rate;
    else throw new Error(`LOCAL_FIREHOSE_FAULTS: unknown fault ${k} (throttle, partial, 5xx)`);
  }
  return out;
}

interface Buffered {
  config: StreamConfig;
  records: Buffer[];
  bytes: number;
  firstArrival?: Date;
  throughput?: StreamThroughput;
}

export interface FirehoseStandInOptions {
  dataDir: string;
  streams: StreamConfig[];
  /** Overrides every stream's IntervalInSeconds (tests do not wait 60 s). */
  bufferSeconds?: number;
  faults?: FaultConfig;
  random?: () => number;
  /** Each stream's Direct PUT quota (quota.ts); undefined = unlimited. */
  quota?: DirectPutQuota;
  now?: () => number;
}

export class FirehoseStandIn {
  private readonly buffers = new Map<string, Buffered>();
  private readonly walDir: string;
  private server?: Server;
  private timer?: NodeJS.Timeout;
  faults: FaultConfig;
  stats = { acceptedRecords: 0, failedRecords: 0, objects: 0, throttledCalls: 0 };

  constructor(private readonly opts: FirehoseStandInOptions) {
    this.faults = opts.faults ?? {};
    this.walDir = join(opts.dataDir, '.firehose-wal');
    for (const config of opts.streams) {
      this.buffers.set(config.name, {
        config,
        records: [],
        bytes: 0,
        throughput: opts.quota && new StreamThroughput(opts.quota, opts.now),
      });
    }
  }

  /** Replays the write-ahead log: records acknowledged before a crash are delivered after it. */
  private recover(): number {
    mkdirSync(this.walDir, { recursive: true });
    let replayed = 0;
    for (const b of this.buffers.values()) {
      const wal = this.walPath(b.config.name);
      if (!existsSync(wal)) continue;
      for (const line of readFileSync(wal, 'utf8').split('\n')) {
        if (!line) continue;
        const sep = line.indexOf(' ');
        const at = new Date(Number(line.slice(0, sep)));
        const data = Buffer.from(line.slice(sep + 1), 'base64');
        b.firstArrival ??= at;
        b.records.push(data);
        b.bytes += data.length;
        replayed++;
      }
    }
    return replayed;
  }

  private walPath(stream: string) {
    return join(this.walDir, `${stream}.wal`);
  }

  async listen(port: number, host = '127.0.0.1'): Promise<{ url: string; replayed: number }> {
    const replayed = this.recover();
    this.server = createServer((req, res) => void this.route(req, res));
    await new Promise<void>((ok, fail) => this.server!.once('error', fail).listen(port, host, ok));
    this.timer = setInterval(() => this.flushDue(), 250);
    const addr = this.server.address();
    return { url: `http://${host}:${typeof addr === 'object' && addr ? addr.port : port}`, replayed };
  }

  /** Stops accepting, then writes everything buffered (a clean stop loses nothing). */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await new Promise<void>((ok) => (this.server ? this.server.close(() => ok()) : ok()));
    this.flushAll();
  }

  flushAll(): void {
    for (const b of this.buffers.values()) this.flushStream(b);
  }

  private flushDue(): void {
    const now = Date.now();
    for (const b of this.buffers.values()) {
      const interval = (this.opts.bufferSeconds ?? b.config.intervalSeconds) * 1000;
      if (b.firstArrival && (now - b.firstArrival.getTime() >= interval || b.bytes >= b.config.sizeMB * 1024 * 1024)) this.flushStream(b);
    }
  }

  private flushStream(b: Buffered): void {
    if (b.records.length === 0 || !b.firstArrival) return;
    const body = Buffer.concat(b.records);
    const key = objectKey({ prefix: b.config.prefix, stream: b.config.name, at: b.firstArrival, gzip: b.config.gzip });
    const path = join(this.opts.dataDir, key);
    mkdirSync(dirname(path), { recursive: true });
    // Write then rename: readers never see half an object.
    const tmp = `${path}.${randomUUID()}.tmp`;
    writeFileSync(tmp, b.config.gzip ? gzipSync(body) : body);
    renameSync(tmp, path);
    rmSync(this.walPath(b.config.name), { force: true });
    b.records = [];
    b.bytes = 0;
    b.firstArrival = undefined;
    this.stats.objects++;
  }

  private accept(stream: Buffered, data: Buffer[]): void {
    const now = new Date();
    // Write-ahead before acknowledging (appendFileSync: survives a killed process).
    appendFileSync(this.walPath(stream.config.name), data.map((d) => `${now.getTime()} ${d.toString('base64')}\n`).join(''));
    stream.firstArrival ??= now;
    for (const d of data) {
      stream.records.push(d);
      stream.bytes += d.length;
    }
    this.stats.acceptedRecords += data.length;
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const raw = Buffer.concat(chunks).toString('utf8');
      if (req.url?.startsWith('/_local/')) return this.admin(req.url, raw, res);
      const target = String(req.headers['x-amz-target'] ?? '');
      const op = target.split('.')[1] ?? '';
      const input = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
      const random = this.opts.random ?? Math.random;
      if (op === 'PutRecordBatch' || op === 'PutRecord') {
        if (random() < (this.faults.serverError ?? 0)) return send(res, 500, { __type: 'InternalFailure', message: 'injected fault: 500' });
        if (random() < (this.faults.throttle ?? 0))
          return send(res, 400, { __type: 'ServiceUnavailableException', message: 'Slow down. (injected throttling)' });
      }
      const stream = this.buffers.get(String(input.DeliveryStreamName ?? ''));
      switch (op) {
        case 'ListDeliveryStreams':
          return send(res, 200, { DeliveryStreamNames: [...this.buffers.keys()], HasMoreDeliveryStreams: false });
        case 'DescribeDeliveryStream':
        case 'PutRecord':
        case 'PutRecordBatch':
          if (!stream)
            return send(res, 400, {
              __type: 'ResourceNotFoundException',
              message: `Firehose ${String(input.DeliveryStreamName)} under account 000000000000 not found.`,
            });
          break;
        default:
          return send(res, 400, {
            __type: 'UnknownOperationException',
            message: `operation ${op || '(none)'} is not supported by the local stand-in`,
          });
      }
      if (op === 'DescribeDeliveryStream') {
        return send(res, 200, {
          DeliveryStreamDescription: {
            DeliveryStreamName: stream.config.name,
            DeliveryStreamStatus: 'ACTIVE',
            DeliveryStreamType: 'DirectPut',
            VersionId: '1',
          },
        });
      }
      const slowDown = () => {
        this.stats.throttledCalls++;
        return send(res, 400, {
          __type: 'ServiceUnavailableException',
          message: "Slow down. (over the stream's Direct PUT throughput quota)",
        });
      };
      if (op === 'PutRecord') {
        const data = Buffer.from((input.Record as { Data?: string } | undefined)?.Data ?? '', 'base64');
        if (stream.throughput && !stream.throughput.admit(1, data.length)) return slowDown();
        this.accept(stream, [data]);
        return send(res, 200, { RecordId: randomUUID(), Encrypted: false });
      }
      const records = (input.Records as { Data?: string }[] | undefined) ?? [];
      // PutRecordBatch quota: 500 records per call.
      if (records.length === 0 || records.length > 500)
        return send(res, 400, { __type: 'InvalidArgumentException', message: 'Records must have 1 to 500 entries' });
      if (
        stream.throughput &&
        !stream.throughput.admit(
          records.length,
          records.reduce((n, r) => n + Buffer.byteLength(r.Data ?? '', 'base64'), 0),
        )
      )
        return slowDown();
      const partial = this.faults.partial ?? 0;
      const kept: Buffer[] = [];
      const responses = records.map((r) => {
        if (random() < partial) return { ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'Slow down. (injected partial failure)' };
        kept.push(Buffer.from(r.Data ?? '', 'base64'));
        return { RecordId: randomUUID() };
      });
      if (kept.length) this.accept(stream, kept);
      const failed = records.length - kept.length;
      this.stats.failedRecords += failed;
      return send(res, 200, { FailedPutCount: failed, Encrypted: false, RequestResponses: responses });
    } catch (err) {
      return send(res, 400, { __type: 'SerializationException', message: (err as Error).message });
    }
  }

  private admin(url: string, raw: string, res: ServerResponse): void {
    if (url === '/_local/flush') {
      this.flushAll();
      send(res, 200, { flushed: true });
    } else if (url === '/_local/faults') {
      this.faults = raw ? (JSON.parse(raw) as FaultConfig) : {};
      send(res, 200, this.faults);
    } else if (url === '/_local/stats') send(res, 200, this.stats);
    else send(res, 404, { message: 'not found' });
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.1',
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomUUID(),
  });
  res.end(text);
}
