/**
 * The simulator writes objects under the names and prefixes the deployed streams use, read from
 * serverless.yml as the local stack reads them (no second copy of the layout in local/simulator/).
 */
import { BUFFER_MS, EVENTS_PREFIX, REJECTS_PREFIX } from '../../local/simulator/deliver';
import { streamNames } from '../../local/simulator/index';
import { readStreams } from '../../local/serverless-config';

describe('simulator stream layout', () => {
  it('names the streams of the stage it simulates, events and rejects apart', () => {
    expect(streamNames('qa')).toEqual({ events: 'clickstream-qa-events', rejects: 'clickstream-qa-rejects' });
  });

  it('uses the prefixes and buffer interval the local Firehose stand-in configures for the same streams', () => {
    const byName = new Map(readStreams('dev').map((s) => [s.name, s]));
    const names = streamNames('dev');
    expect(EVENTS_PREFIX).toBe(byName.get(names.events)?.prefix);
    expect(REJECTS_PREFIX).toBe(byName.get(names.rejects)?.prefix);
    // The Glue tables' locations (events/, rejects/) are what the saved queries read.
    expect(EVENTS_PREFIX.startsWith('events/dt=')).toBe(true);
    expect(REJECTS_PREFIX.startsWith('rejects/dt=')).toBe(true);
    expect(BUFFER_MS).toBe((byName.get(names.events)?.intervalSeconds ?? NaN) * 1000);
  });
});
