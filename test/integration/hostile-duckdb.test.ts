/**
 * Strings that look like SQL or HTML (test/support/hostile-cases.ts) are data: the rows the pipeline
 * stores for them read back byte for byte through the saved-query engine (local DuckDB), and the
 * views still count them. Split from test/unit/hostile-inputs.test.ts: it writes a Firehose-shaped
 * object to disk and opens DuckDB.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { configFromEnv, processRequest } from '../../handlers/lib/pipeline';
import { openLocalAthena } from '../../local/athena-local/duckdb';
import { CASES, CHROME, NOW, SALT, SITES, SOURCE_IP } from '../support/hostile-cases';

const config = configFromEnv({ VISITOR_SALT_SECRET: SALT, SITES });

test('strings that look like SQL are read back as data by the saved-query engine', async () => {
  // Prepare: the rows the pipeline stores for the SQL/HTML cases, written as a Firehose object.
  const cases = CASES.filter((c) => /SQL|HTML/.test(c.name));
  const rows = cases.flatMap(
    (c) =>
      processRequest(
        {
          body: c.body,
          isBase64Encoded: c.base64,
          contentType: c.contentType ?? 'text/plain',
          userAgent: c.userAgent ?? CHROME,
          sourceIp: SOURCE_IP,
          origin: c.origin,
          requestId: 'req-hostile',
          receivedAt: NOW,
        },
        config,
      ).events,
  );
  // Each of those cases stores one row: an empty selection would make the comparison below vacuous.
  expect(rows).toHaveLength(cases.length);
  expect(rows.length).toBeGreaterThanOrEqual(2);
  const dir = mkdtempSync(join(tmpdir(), 'hostile-duckdb-'));
  try {
    const day = NOW.toISOString().slice(0, 10);
    mkdirSync(join(dir, 'events', `dt=${day}`, 'hour=00'), { recursive: true });
    writeFileSync(join(dir, 'events', `dt=${day}`, 'hour=00', 'hostile.gz'), gzipSync(rows.map((r) => `${JSON.stringify(r)}\n`).join('')));
    const db = await openLocalAthena(dir);
    try {
      // Act
      const read = await db.run('SELECT event_id, title, element, name, properties FROM events ORDER BY event_id');
      const count = await db.run('SELECT count(*) FROM events_dedup');

      // Assess: byte-for-byte what was sent, and the table is still there to count.
      const sorted = [...rows].sort((a, b) => a.event_id.localeCompare(b.event_id));
      expect(read.rows).toEqual(sorted.map((r) => [r.event_id, r.title ?? null, r.element ?? null, r.name ?? null, r.properties ?? null]));
      expect(count.rows[0]?.[0]).toBe(rows.length);
    } finally {
      db.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
