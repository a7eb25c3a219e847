// Every screen of the till, each registering itself by name
// (ui/registry.js); the shell opens them by that name.
import './enroll.js';
import './login.js';
import './checkout.js';
import './payment.js';
import './returns.js';
import './session.js';
import './reports.js';
import './menu.js';
