/**
 * Custom::AthenaViews (serverless.yml): the deploy itself (re)creates the Athena views of
 * athena-queries/views/, because Athena marks a view stale once a table it reads changes ("View is
 * stale; it must be re-created"). Create/Update run each CREATE OR REPLACE VIEW in the stage's
 * workgroup; Update also drops views no longer listed. Delete runs nothing: every Athena statement
 * writes its result files to the workgroup's output location ("Find query output files in Amazon
 * S3", Athena user guide), so a DROP VIEW during stack removal would refill the results bucket the
 * teardown has just emptied, and deleting the bucket would fail (BucketNotEmpty). The views are Glue
 * tables of the stack's database, and deleting a database removes its tables (Glue API,
 * DeleteDatabase). CloudFormation is answered in every case, before this function's own timeout.
 */
import { createHash } from 'node:crypto';
import type { CloudFormationCustomResourceEvent, Context } from 'aws-lambda';
import { Logger } from '@aws-lambda-powertools/logger';
import { runStatement } from './clients/athena';
import { respond, type Outcome } from './clients/cloudformation';
import { startSeamRun } from './clients/sfn';
import { viewStatements, type ViewProps } from './lib/athena-views';
import { withDeadline } from './lib/deadline';

const logger = new Logger({ serviceName: 'clickstream-athena-views' });
// Kept free after the work's deadline to answer CloudFormation (respond() gives up after 5 s).
export const ANSWER_MARGIN_MS = 8_000;

async function apply(event: CloudFormationCustomResourceEvent, deadline: number): Promise<void> {
  // Custom::CompactionSeam: after the views were re-created with the "nothing compacted" seam, start
  // the compaction's seam-only run (clients/sfn.ts); not fatal: the next scheduled run moves it anyway.
  if (event.ResourceType === 'Custom::CompactionSeam') {
    if (event.RequestType !== 'Delete') {
      await startSeamRun((event.ResourceProperties as unknown as { StateMachine: string }).StateMachine, event.RequestId).catch(
        (err: unknown) => logger.warn('seam run not started; the views read raw days until the next compaction run', { err: String(err) }),
      );
    }
    return;
  }
  const p = event.ResourceProperties as unknown as ViewProps;
  for (const { sql, step } of viewStatements(event)) {
    // Same token for the same step of the same request: a retried invocation does not run it twice.
    const token = createHash('sha256').update(`${event.RequestId}/${step}`).digest('hex');
    await runStatement(sql, { database: p.Database, workGroup: p.WorkGroup, deadline, token });
  }
}

export async function handler(event: CloudFormationCustomResourceEvent, context: Context): Promise<void> {
  const p = event.ResourceProperties as unknown as ViewProps;
  const physicalResourceId =
    event.RequestType === 'Delete'
      ? event.PhysicalResourceId
      : event.ResourceType === 'Custom::CompactionSeam'
        ? 'compaction-seam'
        : `athena-views:${p.Database}`;
  const deadline = Date.now() + context.getRemainingTimeInMillis() - ANSWER_MARGIN_MS;
  let outcome: Outcome;
  try {
    await withDeadline(apply(event, deadline), deadline);
    outcome = { status: 'SUCCESS', physicalResourceId };
  } catch (err) {
    logger.error('views not applied', { requestType: event.RequestType, err: String(err) });
    // Delete never fails (it runs nothing, and a FAILED delete would block removing the stack).
    outcome = { status: event.RequestType === 'Delete' ? 'SUCCESS' : 'FAILED', physicalResourceId, reason: String(err) };
  }
  // A failed answer throws: Lambda retries the (idempotent) invocation.
  await respond(event, outcome);
}
