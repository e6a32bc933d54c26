// Who created which lock file, for users who may delete only their own locks (a client removing the
// trusted host's prune lock is the case this stops). Lock files are encrypted, so the server cannot
// read their owner: it remembers who uploaded each one through this process. A lock it did not see
// uploaded (made before a restart, or directly on the storage) belongs to nobody such a user may
// delete; `restic unlock` on the trusted host removes what is left.
import type { Backend, Body, CallOptions, SaveOptions } from '../backend.js';
import { BackendError } from '../errors.js';
import { describeHandle, type Handle } from '../handle.js';
import { delegate } from './delegate.js';

export class LockOwners {
  private readonly owners = new Map<string, string | undefined>();

  /** The locks of one repository, as seen by one user (undefined: no authentication). */
  wrap(inner: Backend, repoKey: string, user: string | undefined, ownOnly: boolean): Backend {
    const keyOf = (h: Handle): string => `${repoKey}\0${h.type === 'config' ? '' : h.name}`;
    return {
      ...delegate(inner),
      save: async (h: Handle, body: Body, opts?: SaveOptions) => {
        const result = await inner.save(h, body, opts);
        if (h.type === 'locks' && result === 'created') this.owners.set(keyOf(h), user);
        return result;
      },
      remove: async (h: Handle, opts?: CallOptions) => {
        if (h.type === 'locks' && ownOnly) {
          const k = keyOf(h);
          if (!this.owners.has(k) || this.owners.get(k) !== user) {
            throw new BackendError('FORBIDDEN', `${describeHandle(h)} was not created by this user, who may delete only their own locks`);
          }
        }
        await inner.remove(h, opts);
        if (h.type === 'locks') this.owners.delete(keyOf(h));
      },
    };
  }

  get size(): number {
    return this.owners.size;
  }
}
