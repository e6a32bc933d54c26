// `rwm … | head -1`: when the reader of stdout or stderr goes away, writes fail with EPIPE. Without a
// listener that is an uncaught 'error' and node dies mid-command, e.g. between creating a bucket and
// setting its policy. Output nobody reads is dropped instead, and the command finishes its work.

const CLOSED = new Set(['EPIPE', 'ERR_STREAM_DESTROYED']);

export function ignoreClosedPipes(streams: readonly NodeJS.WriteStream[] = [process.stdout, process.stderr]): void {
  for (const s of streams) {
    s.on('error', (err: NodeJS.ErrnoException) => {
      if (CLOSED.has(err.code ?? '')) return;
      throw err;
    });
  }
}
