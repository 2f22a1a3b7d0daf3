/**
 * The User-Agent layers against the labelled corpus of bench/bots.ts (people from the user-agents
 * package, bots named in issue 14 plus crawler-user-agents' examples): the targets that
 * `npm run bench` reports as bots.human_precision and bots.bot_recall.
 */
import { userAgentBotReason } from '../../handlers/lib/bots';
import { corpus, previousDetector, score } from '../../bench/bots';

const TARGETS = { human_precision: 0.99, bot_recall: 0.9 };

describe('bot corpus', () => {
  const c = corpus();
  const ours = score((ua) => userAgentBotReason(ua) !== undefined, c);

  it('is big enough to mean something, and its labels do not overlap', () => {
    expect(c.humans.length).toBeGreaterThan(500);
    expect(c.crawlers.length).toBeGreaterThan(1_000);
    const humans = new Set(c.humans);
    expect([...c.crawlers, ...c.named.map(([, ua]) => ua)].filter((ua) => humans.has(ua))).toEqual([]);
  });

  it(`keeps human precision >= ${TARGETS.human_precision} and bot recall >= ${TARGETS.bot_recall}`, () => {
    expect(ours.human_precision).toBeGreaterThanOrEqual(TARGETS.human_precision);
    expect(ours.bot_recall).toBeGreaterThanOrEqual(TARGETS.bot_recall);
  });

  it('flags every bot the issue names, and no browser of the user-agents data', () => {
    expect(ours.named_bots_missed).toEqual([]);
    expect(ours.humans_flagged).toBe(0);
  });

  it('scores a detector that misses bots or flags people lower (the metric can fail)', () => {
    const blind = score(() => false, c);
    expect(blind.bot_recall).toBe(0);
    expect(blind.human_precision).toBeLessThan(TARGETS.human_precision);
    const paranoid = score(() => true, c);
    expect(paranoid.humans_flagged).toBe(c.humans.length);
    // The previous detector, on the same corpus, for the comparison bench/results.json records.
    expect(score(previousDetector, c).humans).toBe(c.humans.length);
  });
});
