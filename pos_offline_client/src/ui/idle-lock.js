// The cashier's lock after an idle time: no key, touch, click or scan for
// `minutes` locks the till (the cashier's PIN unlocks it). The time is the
// branch's setting (wire: branch.lock_after_minutes; 0 = never), 5 minutes
// when the server does not send one.
// Depends on: a target for input events (window), a clock (setTimeout).
export const DEFAULT_LOCK_MINUTES = 5;

export function lockMinutes(branch) {
  const v = branch?.lock_after_minutes;
  return Number.isInteger(v) && v >= 0 ? v : DEFAULT_LOCK_MINUTES;
}

const EVENTS = ['keydown', 'pointerdown', 'touchstart', 'wheel'];

export class IdleLock {
  // active(): whether there is someone to lock (a cashier logged in);
  // onIdle(): lock.
  constructor({ target, minutes, active, onIdle }) {
    Object.assign(this, { target, active, onIdle });
    this.ms = minutes * 60000;
    this.timer = null;
    this.touch = this.touch.bind(this);
  }

  start() {
    for (const e of EVENTS) this.target.addEventListener(e, this.touch, { capture: true, passive: true });
    this.touch();
  }

  stop() {
    for (const e of EVENTS) this.target.removeEventListener(e, this.touch, { capture: true });
    clearTimeout(this.timer);
  }

  configure(minutes) {
    this.ms = minutes * 60000;
    this.touch();
  }

  // Some activity (an event, a scan from the hardware proxy): the idle time
  // starts again.
  touch() {
    clearTimeout(this.timer);
    if (!this.ms) return;
    this.timer = setTimeout(() => {
      if (this.active()) this.onIdle();
      else this.touch();
    }, this.ms);
  }
}
