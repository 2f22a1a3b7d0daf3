/**
 * The async loader snippet: a stub that queues calls until the SDK arrives. If the SDK is blocked
 * the stub keeps queuing and never throws, so the page's own calls stay safe.
 */
declare const __CS_SRC__: string;
type Stub = ((...a: unknown[]) => void) & { q?: unknown[][] };
((w: Window & { clickstream?: Stub }, d: Document, s?: HTMLScriptElement) => {
  w.clickstream =
    w.clickstream ||
    ((...a: unknown[]) => {
      // The SDK (iife.ts) replays each queued call's arguments.
      const stub = w.clickstream!;
      stub.q = stub.q || [];
      stub.q.push(a);
    });
  s = d.createElement('script');
  s.async = true;
  s.src = __CS_SRC__;
  d.head.appendChild(s);
})(window, document);
