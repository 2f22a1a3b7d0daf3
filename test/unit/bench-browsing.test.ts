/**
 * The browsing bench's arithmetic (bench/browsing.ts): which sends were made as a page was left or
 * closed, and how requests, events and the carry-over estimate are counted from the traces. The
 * Chromium part runs in `npm run bench -- --only-slow --browsing`, not here.
 */
import { dwellMs, exitOf, summarize, type Exit, type Send, type VisitTrace } from '../../bench/browsing';

const send = (at: number, page: string, ids: string[]): Send => ({ at, page, events: ids.length, event_ids: ids });
const visit = (sends: Send[], exits: Exit[]): VisitTrace => ({ name: 'v', pages: 2, seconds: 30, sends, exits, seen_by_playwright: 0 });

describe('browsing bench: page-hide sends', () => {
  // Prepare: the visitor clicked from /menu.html at 10 s, the next page committed at 10.2 s.
  const exits: Exit[] = [
    { kind: 'leave', page: 'http://s/menu.html', at: 10_000, until: 10_200 },
    { kind: 'close', page: 'http://s/order.html', at: 30_000, until: 30_050 },
  ];

  it('a send of the page being left, after the click, is a leave-time send', () => {
    expect(exitOf(send(10_150, 'http://s/menu.html', ['a']), exits)?.kind).toBe('leave');
    // A keepalive request may reach the proxy a little after the commit.
    expect(exitOf(send(11_000, 'http://s/menu.html', ['a']), exits)?.kind).toBe('leave');
  });

  it("the same page's timer send before the click, and the next page's own sends, are not", () => {
    expect(exitOf(send(5_000, 'http://s/menu.html', ['a']), exits)).toBeUndefined();
    expect(exitOf(send(10_150, 'http://s/order.html', ['b']), exits)).toBeUndefined();
    expect(exitOf(send(15_000, 'http://s/menu.html', ['c']), exits)).toBeUndefined();
  });

  it('a send of a closing tab is a close-time send', () => {
    expect(exitOf(send(30_020, 'http://s/order.html', ['d']), exits)?.kind).toBe('close');
  });
});

describe('browsing bench: summary', () => {
  const exits: Exit[] = [
    { kind: 'leave', page: 'http://s/', at: 10_000, until: 10_100 },
    { kind: 'close', page: 'http://s/menu.html', at: 20_000, until: 20_050 },
  ];
  const sends = [
    send(5_000, 'http://s/', ['p1', 'c1']), // the home page's 5 s timer send
    send(10_050, 'http://s/', ['e1']), // its page-hide send as the visitor follows a link
    send(15_200, 'http://s/menu.html', ['p2']), // the menu's timer send
    send(15_900, 'http://s/menu.html', ['p2']), // resent (its answer was lost): a duplicate
    send(20_010, 'http://s/menu.html', ['e2', 'x9']), // the closing tab's last send
  ];

  it('events per request: distinct events stored over every request made (retries included)', () => {
    const stored = ['p1', 'c1', 'e1', 'p2', 'p2', 'e2', 'x9', 'other-visit'].map((event_id) => ({ event_id }));
    const s = summarize([visit(sends, exits)], stored);
    expect(s.requests).toBe(5);
    expect(s.events_sent).toBe(7);
    expect(s.distinct_events_sent).toBe(6);
    expect(s.distinct_events_stored).toBe(6);
    expect(s.events_per_request).toBe(1.2);
    expect(s.missing).toBe(0);
    // One extra row (p2 stored twice) per 6 events.
    expect(s.duplicate_rows_per_100).toBeCloseTo(16.67, 2);
    expect(s.requests_at_leave).toBe(1);
    expect(s.requests_at_close).toBe(1);
  });

  it("carry-over estimate: each leave-time send joins the next page's send; a closing tab still sends", () => {
    const s = summarize(
      [visit(sends, exits)],
      sends.flatMap((x) => x.event_ids.map((event_id) => ({ event_id }))),
    );
    expect(s.carry_over_estimate.requests).toBe(4);
    expect(s.carry_over_estimate.events_per_request).toBe(1.5);
  });

  it('an event sent but never stored is counted missing, and not as delivered', () => {
    const s = summarize(
      [visit(sends, exits)],
      ['p1', 'c1', 'e1', 'p2'].map((event_id) => ({ event_id })),
    );
    expect(s.missing).toBe(2);
    expect(s.distinct_events_stored).toBe(4);
    expect(s.events_per_request).toBe(0.8);
  });
});

describe('browsing bench: reading times', () => {
  it('follow the simulator: a bounce reads 1.5-9 s, a page 4-64 s, capped', () => {
    const at = (u: number) => () => u;
    expect(dwellMs(at(0), true)).toBe(1_500);
    expect(dwellMs(at(1), true)).toBe(9_000);
    expect(dwellMs(at(0), false)).toBe(4_000);
    expect(dwellMs(at(0.5), false)).toBe(19_000);
    expect(dwellMs(at(0.99), false, 40_000)).toBe(40_000);
    expect(dwellMs(at(0.99), false, 100_000)).toBe(Math.round(4_000 + 60_000 * 0.99 ** 2));
  });
});
