/**
 * Which Athena statements Custom::AthenaViews (handlers/athena-views.ts) runs for a CloudFormation
 * request, in order, each with the step name its idempotency token is made from.
 */
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';

export interface View {
  Name: string;
  Sql: string;
}
/**
 * Tables: CREATE TABLE IF NOT EXISTS statements (the compaction's Iceberg tables, scripts/cfn-compaction.js),
 * run before the views that read them; never dropped here (their data outlives a view change).
 */
export interface ViewProps {
  Database: string;
  WorkGroup: string;
  Views: View[];
  Tables?: View[];
}

export interface Statement {
  sql: string;
  step: string;
}

export function viewStatements(event: CloudFormationCustomResourceEvent): Statement[] {
  // Delete comes with the stack's removal, or with a new database name, which replaces the database
  // (and its views) too.
  if (event.RequestType === 'Delete') return [];
  const p = event.ResourceProperties as unknown as ViewProps;
  const out: Statement[] = [
    ...(p.Tables ?? []).map((t) => ({ sql: t.Sql, step: `table/${t.Name}` })),
    ...p.Views.map((v) => ({ sql: v.Sql, step: `create/${v.Name}` })),
  ];
  if (event.RequestType === 'Update') {
    const old = event.OldResourceProperties as unknown as ViewProps;
    // Another database means another physical id: CloudFormation then deletes the old one itself.
    const gone = old.Database === p.Database ? old.Views.filter((o) => !p.Views.some((v) => v.Name === o.Name)) : [];
    for (const v of gone) out.push({ sql: `DROP VIEW IF EXISTS ${v.Name}`, step: `drop/${v.Name}` });
  }
  return out;
}
