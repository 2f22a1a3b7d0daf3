/**
 * The demo restaurant's funnel: menu, order page, add to cart, order placed. A property of the demo
 * site (local/demo/*.html), so it lives beside its pages: the report shows it by default and the
 * simulator's ground truth computes it, both from here.
 */
export const DEMO_FUNNEL = ['/menu.html', '/order.html', 'add_to_cart', 'order_placed'];
