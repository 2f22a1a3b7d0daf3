'use strict';
/**
 * CloudFormation pieces derived from the repository, so the template cannot drift from it:
 *   - Glue columns from schema/columns.ts (loaded through tsx, the same source the local DuckDB
 *     views and docs use), referenced in serverless.yml as ${file(./scripts/cfn-athena.js):...};
 *   - one AWS::Athena::NamedQuery per athena-queries/*.sql (and views/*.sql), added by the local
 *     plugin scripts/cfn-named-queries.js: a serverless.yml variable cannot add keys to
 *     resources.Resources, and the local Firehose stand-in reads that map as plain YAML.
 */
const { readFileSync, readdirSync } = require('node:fs');
const { join, basename } = require('node:path');
const tsx = require('tsx/cjs/api');

const root = join(__dirname, '..');
const QUERY_DIR = join(root, 'athena-queries');

function columns() {
  return tsx.require('../schema/columns.ts', __filename);
}

// Glue limits a column comment to 255 characters.
const toGlue = (list) => list.map((c) => ({ Name: c.name, Type: c.type, Comment: c.comment.slice(0, 255) }));

/** First comment line of a query file: its one-line description. */
function describe(sql) {
  const first = sql.split('\n').find((l) => l.startsWith('--'));
  return (first ? first.replace(/^--\s*/, '') : '').slice(0, 1024);
}

// CloudFormation logical ids are alphanumeric.
const pascal = (s) => s.split(/[^A-Za-z0-9]+/).filter(Boolean).map((w) => w[0].toUpperCase() + w.slice(1)).join('');

/**
 * Saved queries: every athena-queries/*.sql, plus each views/*.sql as a "create view" query the
 * operator runs once after the first deploy (docs/operations.md). Adding a file is all it takes.
 */
function queryFiles() {
  const list = (dir, prefix) => readdirSync(dir).filter((f) => f.endsWith('.sql')).sort()
    .map((f) => ({ file: join(dir, f), name: prefix + basename(f, '.sql') }));
  return [...list(join(QUERY_DIR, 'views'), 'create_view_'), ...list(QUERY_DIR, '')];
}

function namedQueryResources({ database, workGroup }) {
  const out = {};
  for (const q of queryFiles()) {
    const sql = readFileSync(q.file, 'utf8');
    out[`NamedQuery${pascal(q.name)}`] = {
      Type: 'AWS::Athena::NamedQuery',
      Properties: { Name: q.name, Description: describe(sql), Database: database, WorkGroup: workGroup, QueryString: sql },
    };
  }
  return out;
}

module.exports = {
  eventColumns: () => toGlue(columns().EVENT_COLUMNS),
  rejectColumns: () => toGlue(columns().REJECT_COLUMNS),
  partitionKeys: () => toGlue(columns().PARTITION_COLUMNS),
  /**
   * API Gateway CORS allowlist from the comma-separated param corsOrigins. The local stage keeps
   * '*': serverless-offline answers CORS itself, and the handler's SITES allowlist is what guards
   * origins there (params.local has no corsOrigins and must not inherit the deployed default).
   */
  corsOrigins: async ({ resolveVariable }) => {
    const stage = await resolveVariable('sls:stage');
    if (stage === 'local') return ['*'];
    const raw = await resolveVariable('param:corsOrigins');
    return String(raw).split(',').map((s) => s.trim()).filter(Boolean);
  },
  queryFiles,
  namedQueryResources,
};
