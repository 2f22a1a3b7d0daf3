/**
 * The async loader snippet: a stub that queues calls until the SDK arrives. If the SDK is blocked
 * the stub keeps queuing and never throws, so the page's own calls stay safe.
 */
declare const __CS_SRC__: string;
((w: any, d: Document, s?: HTMLScriptElement) => {
  w.clickstream =
    w.clickstream ||
    function () {
      // eslint-disable-next-line prefer-rest-params
      (w.clickstream.q = w.clickstream.q || []).push(arguments);
    };
  s = d.createElement('script');
  s.async = true;
  s.src = __CS_SRC__;
  d.head.appendChild(s);
})(window, document);
