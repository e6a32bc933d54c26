// What `rwm storage check` can find wrong with a bucket. The codes are stable (scripts and tests
// match on them); the messages say what is wrong and why it matters.

export type FindingCode =
  | 'bucket-unreadable'
  | 'versioning-not-enabled'
  | 'object-lock-missing'
  | 'object-lock-mode'
  | 'object-lock-retention'
  | 'policy-missing'
  | 'policy-invalid'
  | 'deny-missing'
  | 'destructive-allow'
  | 'others-not-denied'
  | 'lifecycle-noncurrent-expiry'
  | 'lifecycle-expiration'
  | 'backup-allowed'
  | 'backup-cannot-write'
  | 'backup-cannot-delete-locks';

export interface Finding {
  readonly code: FindingCode;
  readonly message: string;
  /** The S3 action concerned, when there is one. */
  readonly action?: string;
}

export type ProbeOutcome = 'refused' | 'allowed' | 'unsupported' | 'inconclusive' | 'ok' | 'failed';

export interface ProbeResult {
  readonly action: string;
  readonly outcome: ProbeOutcome;
  /** The request and the server's answer, e.g. "DeleteObject VersionId=… → 403 AccessDenied". */
  readonly detail: string;
}

export interface CheckReport {
  readonly bucket: string;
  readonly ok: boolean;
  readonly findings: readonly Finding[];
  readonly notes: readonly string[];
  readonly probes: readonly ProbeResult[];
}
