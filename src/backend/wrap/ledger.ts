// Records every snapshot file a client stores in the server's arrival ledger (src/ledger/arrival.ts),
// before the client is told it succeeded: a snapshot the client saw stored always has a record, or
// the client got an error and retries (a retry finds the file, 'existed', and records it then).
import type { Backend, Body, SaveOptions, SaveResult } from '../backend.js';
import type { Handle } from '../handle.js';
import type { ArrivalLedger } from '../../ledger/arrival.js';
import { BackendError } from '../errors.js';
import { delegate } from './delegate.js';

export interface LedgerWho {
  /** The repository's path in the store, segments joined by '/'. */
  readonly repo: string;
  readonly user?: string | undefined;
  readonly addr?: string | undefined;
}

export function withLedger(inner: Backend, ledger: ArrivalLedger | undefined, who: LedgerWho): Backend {
  if (ledger === undefined) return inner;
  return {
    ...delegate(inner),
    async save(h: Handle, body: Body, opts?: SaveOptions): Promise<SaveResult> {
      const r = await inner.save(h, body, opts);
      if (h.type !== 'snapshots') return r;
      const size = opts?.size ?? (await inner.stat(h, opts)).size;
      try {
        await ledger.append({ repo: who.repo, id: h.name, size, ...(who.user !== undefined ? { user: who.user } : {}), ...(who.addr !== undefined ? { addr: who.addr } : {}) });
      } catch (err) {
        throw new BackendError('UNAVAILABLE', `snapshot ${h.name.slice(0, 8)} stored, but its arrival could not be recorded in the ledger: ${(err as Error).message}`, { cause: err });
      }
      return r;
    },
  };
}
