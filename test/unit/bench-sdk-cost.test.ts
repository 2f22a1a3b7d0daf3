/**
 * The SDK cost harness counts what each tracker delivered, so a tracker that drops events (and would
 * look cheap) shows up: the counting must read each tracker's own body shape (bench/sdk-cost.ts).
 */
import { eventsInBody } from '../../bench/sdk-cost';

describe('sdk-cost collector: events per request body', () => {
  it('ours: one per entry of events[]', () => {
    expect(eventsInBody({ site_id: 'bench', sent_at: '2026-12-03T10:00:00.000Z', events: [{}, {}, {}] })).toBe(3);
  });

  it('Snowplow (payload_data): one per entry of data[]', () => {
    expect(
      eventsInBody({ schema: 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4', data: [{ e: 'ue' }, { e: 'pv' }] }),
    ).toBe(2);
  });

  it('Plausible and Umami: one event per request', () => {
    expect(eventsInBody({ n: 'add_to_cart', u: 'http://127.0.0.1/', d: 'bench.example', p: '{"item":"margherita"}' })).toBe(1);
    expect(eventsInBody({ type: 'event', payload: { website: 'x', name: 'add_to_cart', data: { qty: 1 } } })).toBe(1);
  });
});
