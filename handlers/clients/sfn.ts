/**
 * The one place the deploy-time views function talks to Step Functions (Custom::CompactionSeam):
 * start the compaction state machine's seam-only run. Created once at module scope, like the
 * Athena client.
 */
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { createHash } from 'node:crypto';
import { fromEnv } from '@aws-sdk/credential-provider-env';

export const sfn = new SFNClient({
  // Lambda hands the role's credentials in the environment; the bundle stubs the default provider chain.
  credentials: fromEnv(),
  // Bound every call, so the function always answers CloudFormation before its own timeout.
  requestHandler: { connectionTimeout: 2_000, requestTimeout: 5_000, throwOnRequestTimeout: true },
});

/**
 * Starts an execution named `name` with `input`. The same name and input again while it runs is the
 * same execution (StartExecution is idempotent on them, Step Functions API reference); once it has
 * closed the call fails with ExecutionAlreadyExists, which a retried deploy step may meet.
 */
export async function startExecution(stateMachineArn: string, name: string, input: unknown): Promise<string | undefined> {
  const r = await sfn.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }));
  return r.executionArn;
}

/** The input of the compaction's seam-only run (local/athena-local/compaction.ts, state Start). */
export const SEAM_ONLY_INPUT = { seamOnly: true };

/**
 * Starts the compaction's seam-only run after a deploy re-created the views (Custom::CompactionSeam):
 * they start with the "nothing compacted" seam (every day read raw: right, but slower, and empty for
 * days whose raw objects have expired); the run reads compaction_state and re-creates them with the
 * real seam. Started, not awaited. Named after the CloudFormation request, so a retried invocation
 * of it starts no second run.
 */
export function startSeamRun(stateMachineArn: string, requestId: string): Promise<string | undefined> {
  return startExecution(
    stateMachineArn,
    `deploy-seam-${createHash('sha256').update(requestId).digest('hex').slice(0, 40)}`,
    SEAM_ONLY_INPUT,
  );
}
