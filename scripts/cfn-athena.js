'use strict';
/**
 * CloudFormation pieces derived from the repository, so the template cannot drift from it:
 *   - Glue columns from schema/columns.ts (loaded through tsx, the same source the local DuckDB
 *     views and docs use), referenced in serverless.yml as ${file(./scripts/cfn-athena.js):...};
 *   - one AWS::Athena::NamedQuery per athena-queries/*.sql (and views/*.sql), added by the local
 *     plugin scripts/cfn-named-queries.js: a serverless.yml variable cannot add keys to
 *     resources.Resources, and the local Firehose stand-in reads that map as plain YAML;
 *   - the views the deploy (re)creates (Custom::AthenaViews, handlers/athena-views.ts): their SQL,
 *     the Glue ARNs their function may write, and the fingerprint that makes CloudFormation re-run
 *     them (set by the local plugin scripts/cfn-views.js).
 */
const { createHash } = require('node:crypto');
const { readFileSync, readdirSync } = require('node:fs');
const { join, basename } = require('node:path');
const tsx = require('tsx/cjs/api');

const root = join(__dirname, '..');
const QUERY_DIR = join(root, 'athena-queries');

function columns() {
  return tsx.require('../schema/columns.ts', __filename);
}

const DATA_FORMATS = ['json', 'parquet'];

/**
 * The first site id of the sites param (JSON text), for the SdkSnippet output. Every id is checked
 * against the wire contract's site_id pattern: an id no event can carry is a configuration error,
 * and the check also keeps the id safe to embed in the snippet's JS string and Fn::Sub.
 */
function firstSiteId(raw, pattern) {
  let sites;
  try {
    sites = typeof raw === 'string' ? JSON.parse(raw) : raw;
  } catch (err) {
    throw new Error(`param sites is not valid JSON: ${err.message}`);
  }
  const ids = Object.keys(sites ?? {});
  if (ids.length === 0) throw new Error('param sites must list at least one site');
  const re = new RegExp(pattern);
  const bad = ids.filter((id) => !re.test(id));
  if (bad.length) throw new Error(`param sites: site ids ${JSON.stringify(bad)} do not match the wire contract's ${re}`);
  return ids[0];
}
const siteIdPattern = () => tsx.require('../schema/event.ts', __filename).batchSchema.properties.site_id.pattern;

// Glue limits a column comment to 255 characters.
const toGlue = (list) => list.map((c) => ({ Name: c.name, Type: c.type, Comment: c.comment.slice(0, 255) }));

/** First comment line of a query file: its one-line description. */
function describe(sql) {
  const first = sql.split('\n').find((l) => l.startsWith('--'));
  return (first ? first.replace(/^--\s*/, '') : '').slice(0, 1024);
}

// CloudFormation logical ids are alphanumeric.
const pascal = (s) =>
  s
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0].toUpperCase() + w.slice(1))
    .join('');

/**
 * Saved queries: every athena-queries/*.sql, plus each views/*.sql as a "create view" query for
 * running by hand (the deploy already runs them: Custom::AthenaViews). Adding a file is all it takes.
 */
function queryFiles() {
  const list = (dir, prefix) =>
    readdirSync(dir)
      .filter((f) => f.endsWith('.sql'))
      .sort()
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

const VIEW_DIR = join(QUERY_DIR, 'views');
const CREATE_VIEW = /^CREATE\s+OR\s+REPLACE\s+VIEW\s+([a-z_][a-z0-9_]*)\s+AS\s/i;

/**
 * Each views/<name>.sql as the statement the deploy runs: whole-line comments and a final `;` removed
 * (a comment ahead of the statement has broken Athena DDL before; the local runner strips them too).
 * It must be `CREATE OR REPLACE VIEW <name> AS` with <name> the file name: the deploy re-runs it on
 * every table change, and drops views by that name.
 */
function viewStatements(dir = VIEW_DIR) {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((f) => {
      const sql = readFileSync(join(dir, f), 'utf8')
        .split('\n')
        .filter((l) => !/^\s*--/.test(l))
        .join('\n')
        .trim()
        .replace(/;\s*$/, '');
      const name = CREATE_VIEW.exec(sql)?.[1];
      if (!name)
        throw new Error(`athena-queries/views/${f}: must be one CREATE OR REPLACE VIEW <name> AS ... statement (the deploy re-runs it)`);
      if (name.toLowerCase() !== basename(f, '.sql').toLowerCase())
        throw new Error(`athena-queries/views/${f}: creates view ${name}; name the file ${name}.sql`);
      return { Name: name.toLowerCase(), Sql: sql };
    });
}

/** Glue table ARNs of the views (Athena keeps a view as a Glue table): what their function may write. */
const viewTableArns = (views = viewStatements()) =>
  views.map((v) => ({ 'Fn::Sub': `arn:\${AWS::Partition}:glue:\${AWS::Region}:\${AWS::AccountId}:table/\${GlueDatabase}/${v.Name}` }));

/** Stable JSON: object keys sorted, so the fingerprint depends on content, not on key order. */
const canonical = (v) =>
  Array.isArray(v)
    ? `[${v.map(canonical).join(',')}]`
    : v && typeof v === 'object'
      ? `{${Object.keys(v)
          .sort()
          .map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`)
          .join(',')}}`
      : JSON.stringify(v);

/**
 * What the views depend on: their SQL, and every Glue table of the template as packaged, with the
 * conditions those tables use (IsParquet switches the SerDe). Athena marks a view stale when a table
 * it reads changes, so any change here must re-run the views; nothing else should.
 */
function viewsFingerprint(resources, conditions, views) {
  const tables = Object.fromEntries(Object.entries(resources).filter(([, r]) => r.Type === 'AWS::Glue::Table'));
  const used = new Set([...canonical(tables).matchAll(/"Fn::If":\["([^"]+)"/g)].map((m) => m[1]));
  const conds = Object.fromEntries(Object.entries(conditions ?? {}).filter(([k]) => used.has(k)));
  return createHash('sha256')
    .update(canonical({ views, tables, conditions: conds }))
    .digest('hex');
}

module.exports = {
  eventColumns: () => toGlue(columns().EVENT_COLUMNS),
  rejectColumns: () => toGlue(columns().REJECT_COLUMNS),
  partitionKeys: () => toGlue(columns().PARTITION_COLUMNS),
  /**
   * API Gateway CORS allowlist from the comma-separated param corsOrigins. The local stage keeps
   * '*': the local API Gateway stand-in (local/api-gateway.ts) answers CORS from it, and the handler's SITES allowlist is what guards
   * origins there (params.local has no corsOrigins and must not inherit the deployed default).
   */
  corsOrigins: async ({ resolveVariable }) => {
    const stage = await resolveVariable('sls:stage');
    if (stage === 'local') return ['*'];
    const raw = await resolveVariable('param:corsOrigins');
    return String(raw)
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  },
  /**
   * Output format of events/ (param dataFormat): json (default) or parquet. Anything else fails the
   * package: a misspelt value would otherwise deploy JSON without a word.
   */
  dataFormat: async ({ resolveVariable }) => {
    const raw = String(await resolveVariable('param:dataFormat'));
    if (!DATA_FORMATS.includes(raw)) throw new Error(`param dataFormat must be one of ${DATA_FORMATS.join(', ')}; got "${raw}"`);
    return raw;
  },
  /**
   * The first site id of the sites param, for the SdkSnippet output. Checked against the wire
   * contract's site_id pattern: an id no event can carry is a configuration error, and the check
   * also keeps the id safe to embed in the snippet's JS string and Fn::Sub.
   */
  firstSiteId: async ({ resolveVariable }) => firstSiteId(await resolveVariable('param:sites'), siteIdPattern()),
  firstSiteIdOf: firstSiteId,
  queryFiles,
  namedQueryResources,
  views: () => viewStatements(),
  viewTableArns: () => viewTableArns(),
  viewStatements,
  viewsFingerprint,
};
