// Screens by name (Odoo's registry.category("pos_screens")): a screen
// file ends with registerScreen('name', Class); the shell opens screens by
// name, so no screen imports another.
const screens = new Map();

export function registerScreen(name, Screen) {
  if (screens.has(name)) throw new Error(`screen ${name} is already registered`);
  screens.set(name, Screen);
  return Screen;
}

export function screenClass(name) {
  const Screen = screens.get(name);
  if (!Screen) throw new Error(`no screen named ${name}`);
  return Screen;
}

export function screenNames() {
  return [...screens.keys()];
}
