// Demo only, not part of the SDK: shows each batch the SDK sends and what the API answered, by
// watching window.fetch calls to the configured endpoint.
(() => {
  const endpoint = window.CLICKSTREAM_CONFIG?.endpoint;
  if (!endpoint || !window.fetch) return;
  const panel = document.createElement('aside');
  panel.className = 'events-panel';
  panel.innerHTML = '<button type="button" class="toggle" data-cs-name="events_panel_toggle">Events sent ▾</button><ol></ol>';
  const list = panel.querySelector('ol');
  panel.querySelector('.toggle').addEventListener('click', () => panel.classList.toggle('open'));
  document.body.append(panel);
  const row = (text, cls) => {
    const li = document.createElement('li');
    li.textContent = text;
    if (cls) li.className = cls;
    list.prepend(li);
    while (list.children.length > 60) list.lastChild.remove();
    return li;
  };
  const describe = (e) =>
    [
      e.type,
      e.name,
      e.element && `“${e.element}”`,
      e.duration_ms != null && `${(e.duration_ms / 1000).toFixed(1)} s`,
      e.scroll_depth != null && `${e.scroll_depth}% scrolled`,
      e.type === 'page_view' && `${new URL(e.url).pathname}${new URL(e.url).search}`,
    ]
      .filter(Boolean)
      .join(' · ');
  const real = window.fetch;
  window.fetch = function (...args) {
    const [input, init] = args;
    const p = real.apply(this, args);
    try {
      if (String(input) === endpoint && init && typeof init.body === 'string') {
        const batch = JSON.parse(init.body);
        const head = row(`batch of ${batch.events.length} → …`, 'batch');
        for (const e of batch.events) row(`   ${describe(e)}`);
        p.then(
          (r) =>
            r
              .clone()
              .json()
              .catch(() => ({}))
              .then((b) => {
                head.textContent = `batch of ${batch.events.length} → ${r.status}${b.accepted != null ? ` (accepted ${b.accepted}, rejected ${b.rejected.length})` : ''}`;
                head.classList.add(r.ok ? 'ok' : 'fail');
              }),
          () => {
            head.textContent = `batch of ${batch.events.length} → network error (will retry)`;
            head.classList.add('fail');
          },
        );
      }
    } catch {
      /* the panel must never break the page */
    }
    return p;
  };
})();
