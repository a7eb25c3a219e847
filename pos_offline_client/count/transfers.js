// Receiving transfers on the phone: the transfers in transit to the branch,
// one opened and received lot by lot (scan or type what arrived, a line
// tapped for damaged units, where the short ones go and why), the receipt
// kept in the outbox until the server accepts it.
import { t } from '../src/lib/i18n.js';
import { uuid } from '../src/lib/uuid.js';
import { Receiving } from './receive.js';
import { fromMilli, toMilli } from './tally.js';

const $ = (id) => document.getElementById(id);
let ctx = null;
const state = { transfers: [], receipts: [], receiving: null, rows: new Map(), editing: null };

function say(text, error = false) {
  $('receive-message').textContent = text;
  $('receive-message').classList.toggle('error', error);
}

// The transfers and the receipts of the outbox, read again from storage
export async function loadTransfers() {
  const [transfers, receipts] = await Promise.all([ctx.state.db.transfers.toArray(), ctx.state.db.receipts.toArray()]);
  state.transfers = transfers.sort((a, b) => a.id - b.id);
  state.receipts = receipts;
  renderTransfers();
}

function lastReceipt(transfer) {
  return state.receipts.filter((r) => r.transfer === transfer.id).sort((a, b) => b.seq - a.seq)[0] || null;
}

function renderTransfers() {
  const list = $('transfer-list');
  list.replaceChildren();
  let shown = 0;
  for (const transfer of state.transfers) {
    const receipt = lastReceipt(transfer);
    if (receipt?.state === 1) continue;
    const li = document.createElement('li');
    const button = document.createElement('button');
    button.type = 'button';
    button.dataset.transfer = String(transfer.id);
    const lines = transfer.lines.length === 1 ? t('1 line') : t('{n} lines', { n: transfer.lines.length });
    button.textContent = `${transfer.number || transfer.id} · ${t('from {branch}', { branch: transfer.from_branch_name })} · ${lines}`;
    if (receipt?.state === 0) {
      button.disabled = true;
      button.append(document.createElement('br'), t('Received, waiting to be sent'));
    } else {
      if (receipt?.state === 2) {
        const error = document.createElement('span');
        error.className = 'error';
        error.textContent = t('Refused: {reason}', { reason: receipt.error?.message || receipt.error?.code || '' });
        button.append(document.createElement('br'), error);
      }
      button.addEventListener('click', () => openTransfer(transfer));
    }
    li.append(button);
    list.append(li);
    shown += 1;
  }
  $('no-transfers').hidden = shown > 0;
}

export async function openTransfer(transfer) {
  const draft = await ctx.state.db.drafts.get(transfer.id);
  state.receiving = new Receiving(transfer, draft);
  state.rows = new Map();
  $('receive-body').replaceChildren();
  for (const line of state.receiving.lines) $('receive-body').append(renderLine(line));
  $('transfer-name').textContent = `${transfer.number || transfer.id} · ${t('from {branch}', { branch: transfer.from_branch_name })}`;
  $('line-edit').hidden = true;
  say('');
  summary();
  ctx.show('transfer');
}

function lotLabel(line) {
  return line.lot_number ? (line.sell_by ? `${line.lot_number} (${line.sell_by})` : line.lot_number) : '';
}

function renderLine(line) {
  let row = state.rows.get(line.move);
  if (!row) {
    row = document.createElement('tr');
    row.dataset.move = String(line.move);
    row.innerHTML = '<td class="product"></td><td class="lot"></td><td class="n shipped"></td><td class="n received"></td><td class="n damaged"></td>';
    row.cells[0].textContent = line.product_name;
    row.cells[1].textContent = lotLabel(line);
    row.cells[2].textContent = fromMilli(line.shipped);
    row.addEventListener('click', () => editLine(line));
    state.rows.set(line.move, row);
  }
  const missing = Receiving.missing(line);
  row.cells[3].textContent = fromMilli(line.received);
  row.cells[3].className = `n received ${missing < 0 ? 'over' : missing > 0 ? 'under' : ''}`;
  row.cells[4].textContent = line.damaged ? fromMilli(line.damaged) : '';
  return row;
}

function changed(line) {
  renderLine(line);
  summary();
  ctx.state.db.drafts.put(state.receiving.draft());
}

function summary() {
  const differ = state.receiving.differences().length;
  $('receive-total').textContent = !differ ? t('as shipped') : differ === 1 ? t('1 line differs') : t('{n} lines differ', { n: differ });
}

function onScan(raw) {
  const quantity = toMilli($('receive-qty').value);
  if (quantity === null || quantity <= 0) {
    say(t('Quantity: type a positive number (at most 3 decimals).'), true);
    return null;
  }
  const found = state.receiving.lineFor(raw);
  if (found.error) {
    const text = String(raw).trim();
    say(found.error === 'other_lot' ? t('Lot {lot} is not in this transfer.', { lot: found.lotNumber })
      : found.error === 'unknown' ? t('Unknown code {code}.', { code: text }) : t('Unreadable code {code}.', { code: text }), true);
    return null;
  }
  $('receive-qty').value = '1';
  const line = state.receiving.add(found.line, quantity);
  changed(line);
  state.fresh?.classList.remove('fresh');
  state.fresh = state.rows.get(line.move);
  state.fresh.classList.add('fresh');
  say(`${line.product_name}${line.lot_number ? ` · ${line.lot_number}` : ''}: +${fromMilli(quantity)}`);
  return line;
}

function editLine(line) {
  state.editing = line;
  $('edit-product').textContent = `${line.product_name}${line.lot_number ? ` · ${line.lot_number}` : ''} — ${t('shipped {n}', { n: fromMilli(line.shipped) })}`;
  $('edit-received').value = fromMilli(line.received);
  $('edit-damaged').value = fromMilli(line.damaged);
  $('edit-short-to').value = line.short_to;
  $('edit-reason').value = line.reason;
  $('line-edit').hidden = false;
  $('edit-received').focus();
}

function saveLine() {
  const line = state.editing;
  const received = toMilli($('edit-received').value);
  const damaged = $('edit-damaged').value.trim() ? toMilli($('edit-damaged').value) : 0;
  if (received === null || received < 0 || damaged === null || damaged < 0) {
    say(t('Received and damaged: numbers not below 0 (at most 3 decimals).'), true);
    return;
  }
  state.receiving.set(line, { received, damaged, short_to: $('edit-short-to').value, reason: $('edit-reason').value });
  state.editing = null;
  $('line-edit').hidden = true;
  changed(line);
  say('');
  $('receive-scan').focus();
}

// The receipt goes to the outbox: sent now if online, else at the next sync
async function finish() {
  const receiving = state.receiving;
  const receipt = { ...receiving.receipt(uuid(), new Date().toISOString()), seq: Date.now(), state: 0 };
  await ctx.state.db.transaction('rw', ctx.state.db.receipts, ctx.state.db.drafts, async () => {
    await ctx.state.db.receipts.add(receipt);
    await ctx.state.db.drafts.delete(receiving.transfer.id);
  });
  state.receiving = null;
  await loadTransfers();
  await ctx.refreshPending();
  ctx.message(t('Transfer {number} received.', { number: receiving.transfer.number || receiving.transfer.id }));
  ctx.show('counts');
  ctx.scheduleSync();
}

export function setupTransfers(context) {
  ctx = context;
  $('transfer-back').addEventListener('click', () => ctx.show('counts'));
  $('receive-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const raw = $('receive-scan').value;
    $('receive-scan').value = '';
    onScan(raw);
    $('receive-scan').focus();
  });
  $('edit-ok').addEventListener('click', saveLine);
  $('edit-cancel').addEventListener('click', () => { state.editing = null; $('line-edit').hidden = true; });
  $('receive-go').addEventListener('click', finish);
  return { state, openTransfer, onScan, loadTransfers };
}
