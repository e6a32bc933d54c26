// THE APPEND-ONLY RULE. A client of an append-only repository may create files and delete lock
// files, nothing else. Overwrites are impossible in every mode because Backend.save is create-only
// (see backend.ts); this wrapper adds the only other rule: no deletes except locks.
import type { Backend, CallOptions } from '../backend.js';
import { delegate } from './delegate.js';
import { BackendError } from '../errors.js';
import { describeHandle, type Handle } from '../handle.js';

export function isDeleteAllowedAppendOnly(h: Handle): boolean {
  return h.type === 'locks';
}

export function appendOnly(inner: Backend): Backend {
  return {
    ...delegate(inner),
    async remove(h: Handle, opts?: CallOptions): Promise<void> {
      if (!isDeleteAllowedAppendOnly(h)) {
        throw new BackendError('FORBIDDEN', `append-only: deleting ${describeHandle(h)} is not allowed`);
      }
      await inner.remove(h, opts);
    },
  };
}
