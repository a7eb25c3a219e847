// The status bar (network, unsynced operations, last sync, storage, who
// sells) and the banner of a revoked terminal or quarantined operations.
import { formatRelative, t } from '../../lib/i18n.js';
import { h } from '../dom.js';

// s: the app's status; actions: {forceSync, lock, showQuarantine}.
export function statusParts(s, { terminalName, employee, actions }) {
  const online = s.online === true;
  return [
    h('span', { class: 'brand' }, terminalName || t('Point of sale')),
    h('span', { id: 'net', class: `pill ${online ? 'ok' : 'bad'}`, 'data-online': String(online) }, online ? t('Online') : t('Offline')),
    h('span', { id: 'unsynced', class: `pill ${s.pending ? 'warn' : ''}`, 'data-count': String(s.pending) }, t('Unsynced: {n}', { n: s.pending })),
    h('span', { id: 'lastsync', class: 'muted' }, s.lastSyncAt ? t('Last sync {when}', { when: formatRelative(Date.now() - s.lastSyncAt) }) : t('Never synced')),
    h('button', { id: 'force-sync', class: 'small', onclick: () => actions.forceSync() }, t('Force sync')),
    h('span', { id: 'storage', class: `muted ${s.persisted ? '' : 'warn-text'}`, title: s.persisted ? '' : t('Storage may be cleared by the browser: install the app or allow persistent storage.') }, s.persisted ? t('Storage: persistent') : t('Storage: not persistent')),
    h('span', { class: 'spacer' }),
    employee ? h('span', { id: 'cashier' }, employee.name) : null,
    employee ? h('button', { class: 'small', onclick: () => actions.lock() }, t('Lock')) : null,
  ].filter(Boolean);
}

export function bannerParts(s, { actions }) {
  if (s.revoked) {
    return [h('div', { class: 'banner bad' }, t('This terminal\'s key was revoked: sales are kept here; enroll the terminal again to sync them.'))];
  }
  if (s.quarantined) {
    return [h('div', { class: 'banner bad', id: 'quarantine-banner' },
      t('{n} operation(s) rejected by the server and quarantined. A manager must fix them in the back office (Retail › Sync › Conflicts).', { n: s.quarantined }),
      h('button', { class: 'small', onclick: () => actions.showQuarantine() }, t('Details')))];
  }
  return [];
}

export function renderStatusBar(bar, banner, s, context) {
  if (!bar) return;
  bar.replaceChildren(...statusParts(s, context));
  banner?.replaceChildren(...bannerParts(s, context));
}
