// The till's state that screens share: the order being rung up (and the
// held order it came from), the employee selling, their cash session and
// the change due after the last sale. Screens and components subscribe;
// every change goes through a method here, which tells them.
import { newOrder, selectedLine } from '../models/order.js';

export class Store {
  constructor() {
    this.order = newOrder();
    this.heldUuid = null;
    this.employee = null;
    this.session = null;
    this.lastChange = null;
    this.listeners = new Set();
  }

  // fn(store) after each change; returns the unsubscribe function.
  subscribe(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  notify() {
    for (const fn of [...this.listeners]) fn(this);
  }

  // Change the current order in place: fn(order) mutates it, its result
  // is returned, subscribers hear of it once.
  update(fn) {
    const result = fn(this.order);
    this.notify();
    return result;
  }

  get selectedLine() {
    return selectedLine(this.order);
  }

  setOrder(order, { heldUuid = null } = {}) {
    this.order = order;
    this.heldUuid = heldUuid;
    this.notify();
  }

  // A new, empty sale (after a sale, a void, a park).
  clearOrder() {
    this.setOrder(newOrder());
  }

  select(index) {
    const n = this.order.lines.length;
    if (!n) return;
    this.update((order) => {
      order.selected = Math.max(0, Math.min(n - 1, index));
    });
  }

  moveSelection(step) {
    if (this.order.lines.length) this.select(this.order.selected + step);
  }

  setEmployee(employee) {
    this.employee = employee;
    if (!employee) this.session = null;
    this.notify();
  }

  setSession(session) {
    this.session = session;
    this.notify();
  }

  // A sale saved: a new, empty order, and the change due shown under the
  // totals until the next scan.
  saleDone(change) {
    this.lastChange = change || null;
    this.clearOrder();
  }

  // A scan hides the change due of the last sale; what the scan changes
  // shows it (a refused scan changes nothing and shows nothing new).
  clearChange() {
    this.lastChange = null;
  }

  // A manager's approval goes with the order (sync/wire.js auditPayloads).
  addOverride(entry) {
    this.order.overrides.push(entry);
  }
}
