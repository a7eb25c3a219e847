// A DOM for the UI's unit tests (happy-dom): the page of index.html, the
// browser globals the till's UI uses, and a shell whose toasts are kept in
// a list instead of timers.
import { Window } from 'happy-dom';

export const window = new Window({ url: 'http://localhost/pos/', width: 1280, height: 800 });

for (const name of ['document', 'Node', 'HTMLElement', 'Event', 'KeyboardEvent', 'MouseEvent', 'SubmitEvent', 'sessionStorage', 'localStorage']) {
  globalThis[name] = window[name];
}


export function page() {
  document.body.innerHTML = '<header id="status"></header><div id="banner"></div><main id="screen"></main><div id="toasts"></div>';
}

export function $(selector) {
  return document.querySelector(selector);
}

export function $$(selector) {
  return [...document.querySelectorAll(selector)];
}

export function key(name, { shiftKey = false, target = document.body } = {}) {
  const e = new window.KeyboardEvent('keydown', { key: name, shiftKey, bubbles: true, cancelable: true });
  target.dispatchEvent(e);
  return e;
}

export function click(selector) {
  const el = typeof selector === 'string' ? $(selector) : selector;
  if (!el) throw new Error(`nothing matches ${selector}`);
  el.click();
}

// Wait until fn() is truthy (a dialog opened, a sale saved), at most ms.
export async function until(fn, ms = 2000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${fn}`);
    await new Promise((r) => setImmediate(r));
  }
}
