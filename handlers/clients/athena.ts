/**
 * The one place the deploy-time views function talks to Athena: run one statement in a workgroup and
 * wait for it, within a deadline. Created once at module scope, like the Firehose client.
 */
import { AthenaClient, GetQueryExecutionCommand, StartQueryExecutionCommand, StopQueryExecutionCommand } from '@aws-sdk/client-athena';
import { fromEnv } from '@aws-sdk/credential-provider-env';

export const athena = new AthenaClient({
  // Lambda hands the role's credentials in the environment; the bundle stubs the default provider
  // chain (scripts/esbuild-plugins.js), as for the Firehose client.
  credentials: fromEnv(),
  // Bound every call: a hung connection must not outlive the deadline the caller answers by.
  requestHandler: { connectionTimeout: 2_000, requestTimeout: 5_000, throwOnRequestTimeout: true },
});

export class AthenaStatementError extends Error {
  override name = 'AthenaStatementError';
}

export interface StatementOptions {
  database: string;
  workGroup: string;
  /** Epoch ms by which the statement must have finished; past it the query is stopped and this throws. */
  deadline: number;
  /** Idempotency token (32-128 characters): a retried invocation does not start the statement twice. */
  token?: string;
  /** First poll delay, doubled up to 2 s: a DDL statement usually finishes within a second or two. */
  firstPollMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs `sql` and resolves with its QueryExecutionId once it SUCCEEDED; throws AthenaStatementError otherwise. */
export async function runStatement(sql: string, o: StatementOptions): Promise<string> {
  const sleep = o.sleep ?? wait;
  const started = await athena.send(
    new StartQueryExecutionCommand({
      QueryString: sql,
      WorkGroup: o.workGroup,
      QueryExecutionContext: { Database: o.database },
      ClientRequestToken: o.token,
    }),
  );
  const id = started.QueryExecutionId;
  if (!id) throw new AthenaStatementError('StartQueryExecution returned no QueryExecutionId');
  for (let delay = o.firstPollMs ?? 250; ; delay = Math.min(delay * 2, 2_000)) {
    const { QueryExecution: q } = await athena.send(new GetQueryExecutionCommand({ QueryExecutionId: id }));
    const state = q?.Status?.State;
    if (state === 'SUCCEEDED') return id;
    if (state === 'FAILED' || state === 'CANCELLED') {
      throw new AthenaStatementError(`query ${id} ${state}: ${q?.Status?.StateChangeReason ?? 'no reason given'}`);
    }
    if (Date.now() + delay > o.deadline) {
      // Best effort: a statement left running could still land after we reported failure.
      await athena.send(new StopQueryExecutionCommand({ QueryExecutionId: id })).catch(() => undefined);
      throw new AthenaStatementError(`query ${id} still ${state ?? 'unknown'} at the deadline; stopped`);
    }
    await sleep(delay);
  }
}
