// Upload bodies whose chunks are handed over to the consumer. Node's HTTP parser gives each body
// chunk (~64 KiB) its own ArrayBuffer; left to the garbage collector, a GiB of them causes dozens of
// major collections (external memory counts against V8's heap limits). A body marked as handing its
// chunks over lets the backend free each one as soon as it has been hashed and copied or written.
import { MessageChannel } from 'node:worker_threads';
import type { Body } from './backend.js';

/** Marks a body whose chunks the consumer owns: it MAY free each one once it no longer needs it. */
export const CHUNKS_HANDED_OVER: unique symbol = Symbol('rwm.chunksHandedOver');

export interface HandedOverBody extends AsyncIterable<Uint8Array> {
  readonly [CHUNKS_HANDED_OVER]: true;
}

export function handsOverChunks(body: Body): body is HandedOverBody {
  return (body as Partial<HandedOverBody>)[CHUNKS_HANDED_OVER] === true;
}

// Transferring an ArrayBuffer to a port whose other end is closed detaches it and frees its memory
// at once (~2 µs); Node 20 has no ArrayBuffer.prototype.transfer.
let sink: MessageChannel['port1'] | undefined;

function transferAway(ab: ArrayBuffer): void {
  if (sink === undefined) {
    const ch = new MessageChannel();
    ch.port2.close();
    ch.port1.unref();
    sink = ch.port1;
  }
  sink.postMessage(null, [ab]);
}

/**
 * Frees a chunk of a handed-over body now. Only a chunk that is the whole of its ArrayBuffer is freed
 * (a slice of a shared or pooled buffer is left to the garbage collector). After this, the chunk
 * (and any view of its buffer) has length 0: the caller MUST be done with it.
 */
export function freeChunk(chunk: Uint8Array): void {
  const ab = chunk.buffer;
  if (!(ab instanceof ArrayBuffer) || chunk.byteOffset !== 0 || chunk.byteLength !== ab.byteLength || ab.byteLength === 0) return;
  try {
    transferAway(ab);
  } catch {
    // not transferable (e.g. already detached): leave it to the GC
  }
}
