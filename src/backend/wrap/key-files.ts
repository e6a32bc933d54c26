// Refuses uploads to keys/ that are not restic key files. restic reads every file in keys/ when it
// opens a repository, and one hash-named junk file there makes it unable to open the repository at
// all, for the administrator too. Key files are plain JSON (the master key inside is encrypted), so
// the check needs no password. Key files are a few hundred bytes: the body is read whole, up to a cap.
// A body that does not hash to its name goes on to the store, which refuses it as INTEGRITY (the
// more precise reason).
import { createHash } from 'node:crypto';
import type { Backend, Body, SaveOptions, SaveResult } from '../backend.js';
import { BackendError } from '../errors.js';
import { describeHandle, type Handle } from '../handle.js';
import { keyFileProblem, MAX_KEY_FILE } from '../../scrub/key-file.js';
import { delegate } from './delegate.js';

export function onlyKeyFilesInKeys(inner: Backend): Backend {
  return {
    ...delegate(inner),
    async save(h: Handle, body: Body, opts?: SaveOptions): Promise<SaveResult> {
      if (h.type !== 'keys') return inner.save(h, body, opts);
      const tooLarge = (): BackendError => new BackendError('INVALID', `${describeHandle(h)}: larger than ${MAX_KEY_FILE} bytes, not a restic key file`);
      if (opts?.size !== undefined && opts.size > MAX_KEY_FILE) throw tooLarge();
      const parts: Uint8Array[] = [];
      let total = 0;
      for await (const chunk of body) {
        total += chunk.length;
        if (total > MAX_KEY_FILE) throw tooLarge();
        parts.push(chunk);
      }
      const bytes = Buffer.concat(parts);
      const problem = createHash('sha256').update(bytes).digest('hex') === h.name ? keyFileProblem(bytes) : undefined;
      if (problem !== undefined) throw new BackendError('INVALID', `${describeHandle(h)}: ${problem}`);
      return inner.save(h, [bytes], opts);
    },
  };
}
