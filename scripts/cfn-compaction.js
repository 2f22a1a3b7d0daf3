'use strict';
/**
 * CloudFormation pieces of the compaction (issue 13; docs/operations.md "Compaction"), derived from
 * local/athena-local/compaction.ts, the module `npm run compact` runs locally, so the deployed SQL
 * and the local SQL are one source:
 *   - tables: the Iceberg tables' CREATE TABLE statements, run by Custom::AthenaViews before the
 *     views that read them (a table DDL goes the same way as the views);
 *   - definition: the Step Functions state machine as a DefinitionString, the workgroup spliced in
 *     with Ref (Fn::Join, so no ${...} reaches the framework's variable resolver);
 *   - days: the compactionDays param, checked.
 */
const tsx = require('tsx/cjs/api');
const { viewStatements } = require('./cfn-athena');

const compaction = () => tsx.require('../local/athena-local/compaction.ts', __filename);
/** Minutes of Firehose buffer (60 s) and clock slack a cutoff leaves to the raw side; as local/compact.ts. */
const MARGIN_MINUTES = () => tsx.require('../local/compact.ts', __filename).CUTOFF_MARGIN_MS / 60_000;

function daysOf(raw) {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 90)
    throw new Error(`param compactionDays must be a whole number of days from 1 to 90; got "${raw}"`);
  return n;
}

/** Each table's statement with its S3 folder in the compacted-data bucket. */
function tables() {
  const c = compaction();
  return c.ATHENA_TABLES.map((t) => {
    const location = `s3://@@BUCKET@@/${t.name}/`;
    const [before, after] = c.athenaCreateTable(t, location).split('@@BUCKET@@');
    return { Name: t.name, Sql: { 'Fn::Join': ['', [before, { Ref: 'CompactedBucket' }, after]] } };
  });
}

/** The state machine definition as a CloudFormation string value, the workgroup by Ref. */
function definitionString(days) {
  const c = compaction();
  const text = JSON.stringify(c.stateMachineDefinition({ days, marginMinutes: MARGIN_MINUTES() }, viewStatements()));
  const parts = text.split(c.WORKGROUP);
  const joined = [];
  parts.forEach((p, i) => {
    joined.push(p);
    if (i < parts.length - 1) joined.push({ Ref: 'AthenaWorkGroup' });
  });
  return { 'Fn::Join': ['', joined] };
}

/** Glue ARNs of the compaction's tables: what the deploy creates and the state machine commits to. */
const tableArns = () =>
  compaction().ATHENA_TABLES.map((t) => ({
    'Fn::Sub': `arn:\${AWS::Partition}:glue:\${AWS::Region}:\${AWS::AccountId}:table/\${GlueDatabase}/${t.name}`,
  }));

module.exports = {
  tables: () => tables(),
  tableArns: () => tableArns(),
  definition: async ({ resolveVariable }) => definitionString(daysOf(await resolveVariable('param:compactionDays'))),
  daysOf,
  definitionString,
};
