// `restic version` (plain text in 0.14: "restic 0.14.0 compiled with go1.19.8 on linux/amd64").

export interface ResticVersion {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  /** "0.14.0", or "0.16.4-dev" with the suffix. */
  readonly version: string;
  readonly go: string | undefined;
  readonly platform: string | undefined;
}

/** Parses the output of `restic version`; undefined if it is not restic's. */
export function parseResticVersion(text: string): ResticVersion | undefined {
  const m = /^restic (\d+)\.(\d+)\.(\d+)(\S*)/m.exec(text.trim());
  if (m === null) return undefined;
  const line = text.trim().split('\n')[0] ?? '';
  return {
    major: Number(m[1]),
    minor: Number(m[2]),
    patch: Number(m[3]),
    version: `${m[1]}.${m[2]}.${m[3]}${m[4] ?? ''}`,
    go: /compiled with (go\S+)/.exec(line)?.[1],
    platform: / on (\S+\/\S+)/.exec(line)?.[1],
  };
}

/** a < b, by major, minor, patch. */
export function isOlder(a: Pick<ResticVersion, 'major' | 'minor' | 'patch'>, b: Pick<ResticVersion, 'major' | 'minor' | 'patch'>): boolean {
  if (a.major !== b.major) return a.major < b.major;
  if (a.minor !== b.minor) return a.minor < b.minor;
  return a.patch < b.patch;
}
