// The ACL half of `rwm storage check --as-backup`: S3 lets a writer set the new object's ACL in the
// write itself (x-amz-acl, x-amz-grant-*), which no Deny of PutObjectAcl stops. So, with the backup
// user's keys, write a probe object in each form that could make backups public (a PUT with a canned
// ACL, with a grant header, a copy of an object over itself, a multipart upload), then read it with
// no credentials at all: the bucket is policed only if every anonymous read is refused. Each try
// adds a small version of one key, PREFIX/rwm-canary-acl.
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  GetObjectAclCommand,
  GetObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { s3Status } from '../backend/s3/errors.js';
import { describeS3Error } from './errors.js';
import type { Finding, ProbeResult } from './findings.js';
import { under } from './policy.js';

/** Everyone, as an ACL grantee: what a grant to "another account" can be tested with, without that account's keys. */
const ALL_USERS = 'uri="http://acs.amazonaws.com/groups/global/AllUsers"';

export const aclCanaryKey = (prefix: string): string => `${under(prefix)}rwm-canary-acl`;

interface AclProbe {
  readonly action: string;
  readonly request: string;
  /** Writes the probe object as the backup user. */
  readonly write: () => Promise<unknown>;
  /** What an anonymous client then tries (a GET of the object, or of its ACL). */
  readonly read: 'object' | 'acl';
}

/** Removes the signature a request was given (so S3 sees an anonymous request). */
const unsign =
  <A extends { request?: unknown }, R>(next: (args: A) => Promise<R>) =>
  (args: A): Promise<R> => {
    const headers = (args.request as { headers?: Record<string, string> } | undefined)?.headers;
    if (headers !== undefined) {
      for (const h of Object.keys(headers)) if (/^(authorization|x-amz-security-token|x-amz-date|x-amz-content-sha256)$/i.test(h)) delete headers[h];
    }
    return next(args);
  };
// The deserialize step runs after signing, just before the request goes out.
const UNSIGN = { step: 'deserialize', priority: 'low', name: 'rwmUnsign' } as const;

/** Sends a GET (of an object or its ACL) with the client's endpoint and addressing, but as nobody. */
export async function sendAnonymously(client: S3Client, command: GetObjectCommand | GetObjectAclCommand): Promise<void> {
  if (command instanceof GetObjectCommand) {
    command.middlewareStack.add(unsign, UNSIGN);
    await (await client.send(command)).Body?.transformToByteArray();
  } else {
    command.middlewareStack.add(unsign, UNSIGN);
    await client.send(command);
  }
}

export async function runAclProbes(client: S3Client, bucket: string, prefix: string): Promise<{ probes: ProbeResult[]; findings: Finding[] }> {
  const Key = aclCanaryKey(prefix);
  const Body = 'rwm storage check: ACL probe, written by the backup user; no one else may read it\n';
  const list: AclProbe[] = [
    { action: 's3:PutObject x-amz-acl', request: 'PutObject with x-amz-acl: public-read', read: 'object', write: () => client.send(new PutObjectCommand({ Bucket: bucket, Key, Body, ACL: 'public-read' })) },
    { action: 's3:PutObject x-amz-grant-read', request: 'PutObject with x-amz-grant-read to all users', read: 'object', write: () => client.send(new PutObjectCommand({ Bucket: bucket, Key, Body, GrantRead: ALL_USERS })) },
    { action: 's3:PutObject x-amz-grant-full-control', request: 'PutObject with x-amz-grant-full-control to all users', read: 'acl', write: () => client.send(new PutObjectCommand({ Bucket: bucket, Key, Body, GrantFullControl: ALL_USERS })) },
    {
      action: 's3:CopyObject x-amz-acl',
      request: 'CopyObject of the probe over itself with x-amz-acl: public-read',
      read: 'object',
      write: () => client.send(new CopyObjectCommand({ Bucket: bucket, Key, CopySource: `${bucket}/${encodeURIComponent(Key).replace(/%2F/g, '/')}`, MetadataDirective: 'REPLACE', ACL: 'public-read' })),
    },
    { action: 's3:CreateMultipartUpload x-amz-acl', request: 'CreateMultipartUpload with x-amz-acl: public-read (completed)', read: 'object', write: () => multipartWithAcl(client, bucket, Key, Body) },
  ];
  const probes: ProbeResult[] = [];
  const findings: Finding[] = [];
  for (const p of list) {
    const r = await tryAclProbe(client, bucket, Key, p);
    probes.push(r);
    if (r.outcome === 'allowed') findings.push({ code: 'backup-allowed', action: r.action, message: `an ACL set by the backup user was honoured: ${r.detail}` });
    else if (r.outcome === 'failed') findings.push({ code: 'bucket-unreadable', action: r.action, message: `could not try ${r.action}: ${r.detail}` });
  }
  return { probes, findings };
}

async function tryAclProbe(client: S3Client, bucket: string, Key: string, p: AclProbe): Promise<ProbeResult> {
  const action = p.action;
  try {
    await p.write();
  } catch (err) {
    if (s3Status(err) === 403) return { action, outcome: 'refused', detail: `${p.request} → ${describeS3Error(err)}` };
    return { action, outcome: 'failed', detail: `${p.request} → ${describeS3Error(err)}` };
  }
  const what = p.read === 'object' ? 'GetObject' : 'GetObjectAcl';
  try {
    await sendAnonymously(client, p.read === 'object' ? new GetObjectCommand({ Bucket: bucket, Key, Range: 'bytes=0-0' }) : new GetObjectAclCommand({ Bucket: bucket, Key }));
    return { action, outcome: 'allowed', detail: `${p.request} → 2xx, then an anonymous ${what} → 2xx (readable by anyone)` };
  } catch (err) {
    const answer = `${p.request} → 2xx, then an anonymous ${what} → ${describeS3Error(err)}`;
    if (s3Status(err) === 403) return { action, outcome: 'refused', detail: answer };
    return { action, outcome: 'failed', detail: answer };
  }
}

async function multipartWithAcl(client: S3Client, bucket: string, Key: string, Body: string): Promise<void> {
  const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key, ACL: 'public-read' }));
  try {
    const part = await client.send(new UploadPartCommand({ Bucket: bucket, Key, UploadId, PartNumber: 1, Body }));
    await client.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }));
  } catch (err) {
    // Best effort: the lifecycle rule create sets aborts it after a week anyway.
    await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key, UploadId })).catch(() => undefined);
    throw err;
  }
}
