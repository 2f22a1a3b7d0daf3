/* Build-time feature flags, replaced by esbuild --define (client-sdk/build.mjs). A false flag lets
 * the minifier drop the whole feature, so the core build does not ship it disabled. */
/** Automatic click tracking (links, buttons, outbound links, data-cs-* attributes). */
declare const __CS_CLICKS__: boolean;
/** Engagement time and scroll depth on page hide. */
declare const __CS_ENGAGE__: boolean;
/** Consent states, GPC / Do Not Track, sampling, bot hint, cookieless mode. */
declare const __CS_PRIVACY__: boolean;
/** A page view through a new campaign (UTM, ad click id) starts a new session. */
declare const __CS_CAMPAIGN__: boolean;
/**
 * Another tab's page-hide send judged like the tab's own (delivery.ts adopt(), rescan()): fewer
 * duplicates when a second tab is closed. Out of the core build, which sends those events again.
 */
declare const __CS_TABS__: boolean;
/**
 * What our own stack and current browsers never need, out of the core build to make room for the
 * back/forward cache fix (delivery.ts frozen()): the `keepUntilAcked` option, Retry-After as an HTTP
 * date (the ingest handler and API Gateway send seconds; the core build reads only seconds, and
 * falls back on its backoff for a date), and sendBeacon where fetch has no keepalive (Firefox before
 * 133; the core build sends with fetch there and names nothing, so the next page sends it again).
 */
declare const __CS_RARE__: boolean;
/** SDK version, from client-sdk/package.json. */
declare const __CS_VERSION__: string;
/** The ESM build (true), which a bundler may also load where there is no window; false in the script builds. */
declare const __CS_MODULE__: boolean;
