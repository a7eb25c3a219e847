// `npm ci` installs exactly package-lock.json and refuses a lock that is not
// in sync with package.json, including an optional dependency (a native
// build for another platform) missing from the lock. These are the checks
// npm ci makes before installing, run without the network.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';

const read = (name) => JSON.parse(fs.readFileSync(new URL(`../${name}`, import.meta.url), 'utf8'));
const pkg = read('package.json');
const lock = read('package-lock.json');

// Where node would find `name` from the package installed at `path`.
function resolve(path, name) {
  let dir = path;
  for (;;) {
    const key = `${dir ? `${dir}/` : ''}node_modules/${name}`;
    if (lock.packages[key]) return key;
    if (!dir) return null;
    const i = dir.lastIndexOf('node_modules/');
    dir = i <= 0 ? '' : dir.slice(0, i - 1);
  }
}

test('the lock pins exactly the versions package.json pins', () => {
  const root = lock.packages[''];
  assert.equal(lock.lockfileVersion, 3);
  assert.deepEqual(root.dependencies, pkg.dependencies);
  assert.deepEqual(root.devDependencies, pkg.devDependencies);
  for (const [name, version] of Object.entries({ ...pkg.dependencies, ...pkg.devDependencies })) {
    assert.match(version, /^\d+\.\d+\.\d+$/, `${name} is pinned to one version`);
    assert.equal(lock.packages[`node_modules/${name}`]?.version, version, name);
  }
});

test('every dependency of every locked package, optional ones included, is in the lock', () => {
  const missing = [];
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (!path) continue;
    for (const kind of ['dependencies', 'optionalDependencies', 'peerDependencies']) {
      for (const name of Object.keys(entry[kind] || {})) {
        const optionalPeer = kind === 'peerDependencies' && entry.peerDependenciesMeta?.[name]?.optional;
        if (!optionalPeer && !resolve(path, name)) missing.push(`${path} -> ${name}`);
      }
    }
  }
  assert.deepEqual(missing, []);
});

test('native builds for other platforms are locked but never installed here', () => {
  const rollup = lock.packages['node_modules/rollup'];
  const natives = Object.keys(rollup.optionalDependencies).filter((n) => n.startsWith('@rollup/'));
  assert.ok(natives.length > 10, natives.length);
  for (const name of natives) {
    const entry = lock.packages[`node_modules/${name}`];
    assert.equal(entry.optional, true, name);
    assert.equal(entry.version, rollup.optionalDependencies[name], name);
    assert.ok(entry.os?.length && entry.cpu?.length, `${name} says which platform it is for`);
  }
});
