// Tiny DOM helpers: h(tag, attrs, ...children) and a modal stack.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on')) el.addEventListener(k.slice(2).toLowerCase(), v);
    else if (k === 'value') el.value = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function $(sel, root = document) {
  return root.querySelector(sel);
}

const stack = [];

export function modalOpen() {
  return stack.length > 0;
}

// Open a modal; returns a promise resolved by close(value). Escape cancels.
export function openModal(build, { className = '', dismissable = true } = {}) {
  return new Promise((resolve) => {
    const root = h('div', { class: 'modal-backdrop', role: 'dialog', 'aria-modal': 'true' });
    const box = h('div', { class: `modal ${className}` });
    root.append(box);
    const entry = {
      root,
      close(value) {
        const i = stack.indexOf(entry);
        if (i >= 0) stack.splice(i, 1);
        root.remove();
        document.removeEventListener('keydown', onKey, true);
        resolve(value);
      },
    };
    function onKey(e) {
      if (stack[stack.length - 1] !== entry) return;
      if (e.key === 'Escape' && dismissable) {
        e.preventDefault();
        e.stopPropagation();
        entry.close(null);
      }
    }
    document.addEventListener('keydown', onKey, true);
    stack.push(entry);
    build(box, (v) => entry.close(v));
    document.body.append(root);
    const focus = box.querySelector('[autofocus], input, button');
    if (focus) focus.focus();
  });
}

export function closeAllModals() {
  while (stack.length) stack[stack.length - 1].close(null);
}
