// The X report of the open session, and any report (the Z after a close)
// with beside it the server's figures of the session once the server has
// all the till recorded (asked again until then, while the report shows).
import { t } from '../../lib/i18n.js';
import { compareFigures } from '../../sync/wire.js';
import { h, openModal } from '../dom.js';
import { printHtml, printServerReport, reportHtml } from '../print.js';
import { registerScreen } from '../registry.js';

// The state of the server's side of a report from the app's answer
// (main.js serverFigures): {state: 'match' | 'differ', comparison}, or
// {state: 'pending' | 'unavailable'}.
export function serverSide(report, answer) {
  if (answer.state !== 'ok') return { state: answer.state };
  const comparison = compareFigures(report, answer.figures);
  return { state: comparison.match ? 'match' : 'differ', comparison: { ...comparison, serverFigures: answer.figures } };
}

export class ReportsScreen {
  // props: {title, report, session} to show a report; nothing: the X
  // report of the open session.
  constructor(env, props = {}) {
    this.env = env;
    this.props = props;
  }

  async run() {
    if (this.props.report) return this.show(this.props.title, this.props.report, { session: this.props.session ?? null });
    const { register } = this.env;
    const session = await register.currentSession();
    if (!session) return;
    const r = await register.report(session);
    await this.show(t('X report'), r, { session: session.uuid });
  }

  async show(title, r, { session = null } = {}) {
    const { env } = this;
    const { app } = env;
    const money = (minor) => env.money(minor);
    let server = session ? { state: 'pending' } : null;
    let html = reportHtml(title, r, money, app.device, server);
    let open = true;
    const body = h('div', { class: 'report', id: 'report', 'data-server': server?.state || '' });
    // The till's own receipt journal, checked with each report
    const journal = await env.register.verifyJournal().catch((e) => ({ entries: 0, breaks: [{ message: String(e?.message || e) }] }));
    const journalLine = h('p', { class: journal.breaks.length ? 'journal error' : 'journal', id: 'report-journal', 'data-breaks': String(journal.breaks.length) },
      journal.breaks.length
        ? t('Receipt journal: {n} breaks: {first}', { n: journal.breaks.length, first: journal.breaks[0].message })
        : t('Receipt journal: {n} entries, unbroken', { n: journal.entries }));
    const follow = async () => {
      let kicked = false;
      while (open) {
        const answer = await app.serverFigures(session);
        if (!open) return;
        server = serverSide(r, answer);
        render();
        if (answer.state !== 'pending') return;
        if (!kicked) {
          app.forceSync();
          kicked = true;
        }
        await new Promise((resolve) => setTimeout(resolve, 1500));
      }
    };
    // The server's report of the session reprinted through the hardware
    // proxy, once the server has answered its figures
    const reprint = h('button', {
      id: 'print-server-report', hidden: true,
      onclick: () => printServerReport(env, title, server.comparison.serverFigures),
    }, t('Print the server’s report'));
    const render = () => {
      html = reportHtml(title, r, money, app.device, server);
      body.innerHTML = html;
      body.dataset.server = server?.state || '';
      body.append(journalLine);
      reprint.hidden = !server?.comparison?.serverFigures;
    };
    await openModal((box, close) => {
      render();
      box.append(body, h('div', { class: 'actions' },
        h('button', { onclick: () => printHtml(html) }, t('Print')),
        reprint,
        h('button', { class: 'primary', onclick: () => close() }, t('Close'))));
      if (session) follow().catch(() => {});
    }, { className: 'wide' });
    open = false;
  }
}

registerScreen('reports', ReportsScreen);
