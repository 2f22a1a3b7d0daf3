/** Session as stored (shared by all tabs through localStorage, so tabs of one visit share it). */
export interface Session {
  /** session id */
  i: string;
  /** last activity, epoch ms */
  t: number;
  /** campaign key of the session ('' when none) */
  c: string;
}

/** 30 minutes of inactivity ends a session (the convention of GA and most trackers). */
export const SESSION_TIMEOUT = 30 * 60_000;

/**
 * The session an event at `now` belongs to: the stored one, unless it timed out or the visit
 * arrived through a different campaign (then a new one starts, as in GA).
 */
export function nextSession(
  prev: Session | undefined,
  now: number,
  campaign: string,
  newId: () => string,
  timeout = SESSION_TIMEOUT,
): Session {
  return !prev?.i || now - prev.t > timeout || (__CS_CAMPAIGN__ && campaign && campaign !== prev.c)
    ? __CS_CAMPAIGN__
      ? { i: newId(), t: now, c: campaign }
      : ({ i: newId(), t: now } as Session)
    : { ...prev, t: now };
}

/** Campaign key of a query string: UTM source/medium/campaign and ad click ids; '' when none. (join() writes an absent one, null, as ''.) */
export function campaignOf(search: string): string {
  const q = new URLSearchParams(search);
  return ['utm_source', 'utm_medium', 'utm_campaign', 'gclid', 'fbclid', 'msclkid']
    .map((k) => q.get(k))
    .join('|')
    .replace(/^\|+$/, '');
}
