// Many repositories under one directory: /<path>/<repo segments>/.
import { resolve, join, sep } from 'node:path';
import type { Backend, Store } from '../backend.js';
import { LOCAL_CAPABILITIES, LocalBackend, PRIVATE_MODES, sweepStaleTemps, type LocalModes } from './local.js';

// Temp files this old cannot belong to an upload still in progress.
const STALE_TEMP_MS = 6 * 3600_000;
import { assertRepoSegments } from '../repo-path.js';
import { diskUsage } from './du.js';

export class LocalStore implements Store {
  readonly capabilities = LOCAL_CAPABILITIES;
  readonly root: string;
  /** Repositories whose leftover temp files (from a crash) were already removed by this process. */
  private readonly swept = new Set<string>();

  constructor(
    root: string,
    private readonly modes: LocalModes = PRIVATE_MODES,
  ) {
    this.root = resolve(root);
  }

  get location(): string {
    return this.root;
  }

  /** The directory of a repository; segments are re-checked here so no caller can escape the root. */
  repoDir(segments: readonly string[]): string {
    assertRepoSegments(segments);
    const dir = join(this.root, ...segments);
    if (dir !== this.root && !dir.startsWith(this.root + sep)) throw new Error('repository path escapes the root');
    return dir;
  }

  repo(segments: readonly string[]): Backend {
    const dir = this.repoDir(segments);
    if (!this.swept.has(dir)) {
      this.swept.add(dir);
      void sweepStaleTemps(dir, STALE_TEMP_MS);
    }
    return new LocalBackend(dir, this.modes);
  }

  async usage(prefix: readonly string[]): Promise<number> {
    return diskUsage(this.repoDir(prefix));
  }

  async close(): Promise<void> {}
}
