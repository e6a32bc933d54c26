// Many repositories under one directory: /<path>/<repo segments>/.
import { resolve, join, sep } from 'node:path';
import type { Backend, Store } from '../backend.js';
import { LOCAL_CAPABILITIES, LocalBackend } from './local.js';
import { assertRepoSegments } from '../repo-path.js';
import { diskUsage } from './du.js';

export class LocalStore implements Store {
  readonly capabilities = LOCAL_CAPABILITIES;
  readonly root: string;

  constructor(root: string) {
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
    return new LocalBackend(this.repoDir(segments));
  }

  async usage(prefix: readonly string[]): Promise<number> {
    return diskUsage(this.repoDir(prefix));
  }

  async close(): Promise<void> {}
}
