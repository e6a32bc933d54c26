// The backup host's code never reaches the trusted host's write paths (STYLE.md, "Backup host vs
// trusted host"): following every import (static and dynamic) from src/backup/ and
// src/cli/commands/backup/ must not lead to versions/ or storage/'s create, delete, drop-versions or
// extend-retention. The policed-bucket check (storage/check.ts) and the client factory are allowed.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const FORBIDDEN = [/^versions\//, /^storage\/(create|delete|drop-versions|extend-retention|inventory)\.ts$/, /^cli\/commands\/(maintain|restore|scrub)\.ts$/, /^cli\/commands\/storage\/(?!common\.ts$)/];

/** Every source file reachable from `roots`, each with the file that imports it. */
function reachable(roots: readonly string[]): Map<string, string> {
  const from = new Map<string, string>();
  const queue: [string, string][] = roots.map((r) => [r, '(root)']);
  for (let item = queue.shift(); item !== undefined; item = queue.shift()) {
    const [file, by] = item;
    if (from.has(file)) continue;
    from.set(file, by);
    for (const m of readFileSync(file, 'utf8').matchAll(/^(?!import type )(?:.*\bfrom\s+|.*\bimport\s*\(\s*|import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm)) {
      const target = resolve(dirname(file), (m[1] ?? '').replace(/\.js$/, '.ts'));
      if (existsSync(target)) queue.push([target, file]);
    }
  }
  return from;
}

test('src/backup and rwm backup never import the trusted host\'s write paths', () => {
  const roots = [join(SRC, 'backup'), join(SRC, 'cli', 'commands', 'backup')].flatMap((d) => readdirSync(d).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts')).map((f) => join(d, f)));
  const graph = reachable(roots);
  const bad = [...graph].map(([f, by]) => [relative(SRC, f), relative(SRC, by)] as const).filter(([f]) => FORBIDDEN.some((re) => re.test(f)));
  assert.deepEqual(bad, []);
  assert.ok(graph.has(join(SRC, 'storage', 'check.ts')), 'the walk follows dynamic imports (the policed check is one)');
  assert.ok(graph.has(join(SRC, 'restic', 'run.ts')));
});
