// Names of the files in a restic repository: the five hashed file types plus `config`.

export const FILE_TYPES = ['data', 'keys', 'locks', 'snapshots', 'index'] as const;
export type FileType = (typeof FILE_TYPES)[number];

/** A file in a repository: `config`, or a typed file named by the lowercase hex SHA-256 of its bytes. */
export type Handle = { readonly type: 'config' } | { readonly type: FileType; readonly name: string };

const ID_RE = /^[0-9a-f]{64}$/;

export function isFileType(s: string): s is FileType {
  return (FILE_TYPES as readonly string[]).includes(s);
}

/** True for a restic id: exactly 64 lowercase hex characters. */
export function isId(s: string): boolean {
  return ID_RE.test(s);
}

export function configHandle(): Handle {
  return { type: 'config' };
}

export function fileHandle(type: FileType, name: string): Handle {
  return { type, name };
}

/** The name a verified upload must hash to, or undefined for `config`, which is not content-addressed. */
export function expectedSha256(h: Handle): string | undefined {
  return h.type === 'config' ? undefined : h.name;
}

export function describeHandle(h: Handle): string {
  return h.type === 'config' ? 'config' : `${h.type}/${h.name}`;
}
