// The rwm build a benchmark measures: dist/ must exist and should be newer than src/, and it runs
// from a private copy of dist/, so another engineer rebuilding dist/ meanwhile cannot break a run.
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readdir, rm, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onCleanup } from './cleanup.js';
import { childEnv, execFileAsync } from './proc.js';
import { ROOT } from './report.js';

export const CLI = join(ROOT, 'dist', 'cli', 'main.js');

/** Source files changed after dist/ was built: then rwm runs an older build than the commit says. */
export async function srcNewerThanDist(): Promise<string[]> {
  if (!existsSync(CLI)) return [];
  const built = (await stat(CLI)).mtimeMs;
  const newer: string[] = [];
  for (const e of await readdir(join(ROOT, 'src'), { recursive: true, withFileTypes: true })) {
    if (!e.isFile() || !e.name.endsWith('.ts') || e.name.endsWith('.test.ts')) continue;
    const file = join(e.parentPath, e.name);
    if ((await stat(file)).mtimeMs > built) newer.push(file.slice(ROOT.length + 1));
  }
  return newer;
}

export interface RwmBuild {
  /** main.js in this run's copy of dist/. */
  readonly cli: string;
  /** What `rwm --version` printed. */
  readonly version: string;
  /** src/ files newer than dist/ when the copy was taken. */
  readonly stale: readonly string[];
}

/**
 * Checks dist/ (warning through `log` when src/ is newer), copies it with package.json beside it (the
 * version, "type": "module") and a link to the project's node_modules/ into a temp directory (not
 * under the project, where lint would read it), removes the copy at the end, and checks that it starts. `npmScript` names the script that
 * builds first.
 */
export async function copyRwmBuild(npmScript: string, log: (m: string) => void): Promise<RwmBuild> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" first (or "npm run ${npmScript}")`);
  const stale = await srcNewerThanDist();
  if (stale.length > 0) log(`WARNING: dist/ is older than ${stale.join(', ')}: rwm runs the older build (npm run ${npmScript} rebuilds first)`);
  const copyRoot = await mkdtemp(join(process.env.BENCH_TMP ?? tmpdir(), 'rwm-build-'));
  onCleanup('remove the copy of dist/', async () => rm(copyRoot, { recursive: true, force: true }));
  await cp(join(ROOT, 'package.json'), join(copyRoot, 'package.json'));
  await cp(join(ROOT, 'dist'), join(copyRoot, 'dist'), { recursive: true });
  await symlink(join(ROOT, 'node_modules'), join(copyRoot, 'node_modules'));
  const cli = join(copyRoot, 'dist', 'cli', 'main.js');
  const out = await execFileAsync(process.execPath, [cli, '--version'], { env: childEnv() }).catch((err: unknown) => {
    throw new Error(`the copy of dist/ does not start (rebuilt half-way while it was copied? run again): ${err instanceof Error ? err.message : String(err)}`);
  });
  const version = out.stdout.trim();
  log(`running rwm ${version} from a copy of dist/ in ${copyRoot}`);
  return { cli, version, stale };
}
