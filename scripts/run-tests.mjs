// Runs the test files with node's test runner (TypeScript through tsx).
// Usage: node scripts/run-tests.mjs unit|integration|all [extra node --test args]
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function find(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) find(p, out);
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const which = process.argv[2] ?? 'all';
const files = [];
if (which === 'unit' || which === 'all') files.push(...find('src'));
if (which === 'integration' || which === 'all') files.push(...find('test'));
if (files.length === 0) {
  console.error(`no test files for "${which}"`);
  process.exit(1);
}
const args = ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=2', ...process.argv.slice(3), ...files.sort()];
const r = spawnSync(process.execPath, args, { stdio: 'inherit' });
process.exit(r.status ?? 1);
