// The single-page section: steps change with history.pushState and the title is set after the
// view renders, as client-side routers do, so the SDK's SPA page views can be seen in action.
(() => {
  const dishes = [
    ['Margherita', 11.5],
    ['Tagliatelle al ragu', 15],
    ['Risotto ai funghi', 16.5],
    ['Branzino al sale', 24],
    ['Spaghetti alle vongole', 18],
    ['Espresso', 2],
    ['Limonata', 4.5],
    ['Chianti Classico', 7],
    ['Negroni sbagliato', 9],
  ];
  const cs = (...a) => window.clickstream?.(...a);
  const cart = () => JSON.parse(sessionStorage.getItem('demo_cart') || '[]');
  const setCart = (c) => sessionStorage.setItem('demo_cart', JSON.stringify(c));
  const view = document.getElementById('view');
  const euro = (n) => `€${n.toFixed(2)}`;
  const el = (tag, props, ...kids) => {
    const e = Object.assign(document.createElement(tag), props);
    e.append(...kids);
    return e;
  };

  const views = {
    pick() {
      const list = el('div', { className: 'grid' });
      for (const [name, price] of dishes) {
        const add = el('button', { type: 'button', className: 'order', textContent: 'Add' });
        add.dataset.csName = name;
        add.dataset.csEvent = 'add_button';
        add.addEventListener('click', () => {
          setCart([...cart(), [name, price]]);
          cs('track', 'add_to_cart', { item: name, price });
          add.textContent = 'Added ✓';
        });
        list.append(
          el('article', { className: 'item' }, el('h3', {}, `${name} `, el('span', { className: 'price', textContent: euro(price) })), add),
        );
      }
      return ['Pick dishes — Order online', el('div', {}, list, link('cart', 'Review your order →'))];
    },
    cart() {
      const c = cart();
      const total = c.reduce((s, [, p]) => s + p, 0);
      const place = el('button', { type: 'button', id: 'place-order', textContent: 'Place order', disabled: !c.length });
      place.addEventListener('click', () => {
        cs('track', 'order_placed', { items: c.map(([n]) => n), total, count: c.length });
        setCart([]);
        go('done');
      });
      const clear = el('button', { type: 'button', className: 'secondary', textContent: 'Empty the order' });
      clear.addEventListener('click', () => {
        setCart([]);
        go('cart');
      });
      return [
        `Your order (${c.length}) — Order online`,
        el(
          'div',
          {},
          c.length
            ? el('ul', {}, ...c.map(([n, p]) => el('li', { textContent: `${n} — ${euro(p)}` })))
            : el('p', { textContent: 'Nothing yet.' }),
          el('p', { className: 'total', textContent: `Total ${euro(total)}` }),
          place,
          ' ',
          clear,
          ' ',
          link('pick', '← Add more'),
        ),
      ];
    },
    done() {
      return [
        'Thank you — Order online',
        el(
          'div',
          {},
          el('p', { textContent: 'Your order is on its way to the kitchen. Pick it up in 20 minutes.' }),
          link('pick', 'Order something else'),
        ),
      ];
    },
  };

  function link(step, text) {
    const a = el('a', { href: step === 'pick' ? '/order.html' : `/order.html?step=${step}`, textContent: text });
    a.dataset.route = step;
    return a;
  }
  function render() {
    const step = new URLSearchParams(location.search).get('step') || 'pick';
    const [title, content] = (views[step] || views.pick)();
    view.replaceChildren(content);
    // Routers set the title after rendering, a moment after the URL changed.
    setTimeout(() => (document.title = title), 20);
  }
  function go(step) {
    history.pushState({}, '', step === 'pick' ? '/order.html' : `/order.html?step=${step}`);
    render();
  }
  document.addEventListener('click', (e) => {
    const a = e.target.closest('a[data-route]');
    if (!a || e.metaKey || e.ctrlKey) return;
    e.preventDefault();
    go(a.dataset.route);
  });
  window.addEventListener('popstate', render);
  render();
})();
