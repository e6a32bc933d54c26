// ACL headers on the backup user's allowed writes, against the real RGW (issue 9). S3 lets a writer
// set the new object's ACL in the write itself, so the backup user of a bucket made by `rwm storage
// create` tries every form it has (PutObject, CopyObject of an object over itself, a multipart
// upload, a browser POST form; x-amz-acl and x-amz-grant-*) to make its objects readable by anyone
// or by a third account. Whatever the server accepts, nobody but the owner and the backup user may
// then read an object or its ACL, or change that ACL.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  GetObjectAclCommand,
  GetObjectCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { bucketName, deleteBucket, s3TestEnv, testClient, type S3TestEnv } from '../helpers/s3.js';
import { runStorage } from '../helpers/storage.js';

const env = s3TestEnv();
const OTHER_ID = 'other';

/** The third account scripts/s3-test-server.sh creates. */
function otherKeys(): S3TestEnv['admin'] {
  const accessKeyId = process.env.RWM_S3_OTHER_ACCESS_KEY;
  const secretAccessKey = process.env.RWM_S3_OTHER_SECRET_KEY;
  assert.ok(accessKeyId && secretAccessKey, 'RWM_S3_OTHER_ACCESS_KEY/SECRET_KEY: a third user from scripts/s3-test-server.sh start');
  return { accessKeyId, secretAccessKey };
}

const status = async (p: Promise<unknown>): Promise<number> =>
  p.then(
    () => 200,
    (err: { $metadata?: { httpStatusCode?: number } }) => err.$metadata?.httpStatusCode ?? -1,
  );

/** A browser-form upload (POST object, SigV4 policy) as `keys`, with extra form fields such as acl. */
async function postObject(keys: S3TestEnv['admin'], bucket: string, key: string, fields: Record<string, string>, body: string): Promise<number> {
  const now = new Date();
  const amzDate = now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const day = amzDate.slice(0, 8);
  const credential = `${keys.accessKeyId}/${day}/${env.region}/s3/aws4_request`;
  const conditions = [{ bucket }, { key }, ...Object.entries(fields).map(([k, v]) => ({ [k]: v })), { 'x-amz-credential': credential }, { 'x-amz-algorithm': 'AWS4-HMAC-SHA256' }, { 'x-amz-date': amzDate }];
  const policy = Buffer.from(JSON.stringify({ expiration: new Date(now.getTime() + 600_000).toISOString(), conditions })).toString('base64');
  const hmac = (k: string | Buffer, d: string): Buffer => createHmac('sha256', k).update(d).digest();
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${keys.secretAccessKey}`, day), env.region), 's3'), 'aws4_request');
  const form = new FormData();
  for (const [k, v] of Object.entries({ key, ...fields, 'x-amz-credential': credential, 'x-amz-algorithm': 'AWS4-HMAC-SHA256', 'x-amz-date': amzDate, policy, 'x-amz-signature': hmac(signingKey, policy).toString('hex') })) form.append(k, v);
  form.append('file', new Blob([body]));
  const r = await fetch(`${env.endpoint}/${bucket}`, { method: 'POST', body: form });
  await r.arrayBuffer();
  return r.status;
}

describe('ACL headers on the backup user\'s writes to a policed bucket grant nobody anything', () => {
  const bucket = bucketName('rwm-acl');
  const admin = testClient(env, 'admin');
  const backup = testClient(env, 'backup');
  const other = new S3Client({ endpoint: env.endpoint, region: env.region, forcePathStyle: true, credentials: otherKeys(), requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
  const grantOther = `id="${OTHER_ID}"`;
  const allUsers = 'uri="http://acs.amazonaws.com/groups/global/AllUsers"';

  before(async () => {
    const r = await runStorage(env, ['create', bucket, '--user', 'backup']);
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });
  after(async () => {
    for (const c of [admin, backup, other]) c.destroy();
    await deleteBucket(env, bucket);
  });

  const copyOverItself = (Key: string, extra: object): Promise<unknown> =>
    backup.send(new CopyObjectCommand({ Bucket: bucket, Key, CopySource: `${bucket}/${Key}`, MetadataDirective: 'REPLACE', ...extra }));
  const multipart = async (Key: string, extra: object): Promise<void> => {
    const { UploadId } = await backup.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key, ...extra }));
    const part = await backup.send(new UploadPartCommand({ Bucket: bucket, Key, UploadId, PartNumber: 1, Body: 'secret backup data' }));
    await backup.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }));
  };
  const put = (Key: string, extra: object): Promise<unknown> => backup.send(new PutObjectCommand({ Bucket: bucket, Key, Body: 'secret backup data', ...extra }));

  const FORMS: readonly { name: string; write: (key: string) => Promise<unknown> }[] = [
    { name: 'PutObject x-amz-acl: public-read', write: (k) => put(k, { ACL: 'public-read' }) },
    { name: 'PutObject x-amz-acl: public-read-write', write: (k) => put(k, { ACL: 'public-read-write' }) },
    { name: 'PutObject x-amz-grant-read to all users', write: (k) => put(k, { GrantRead: allUsers }) },
    { name: 'PutObject x-amz-grant-read to another account', write: (k) => put(k, { GrantRead: grantOther }) },
    { name: 'PutObject x-amz-grant-full-control to another account', write: (k) => put(k, { GrantFullControl: grantOther }) },
    { name: 'PutObject x-amz-grant-read-acp/write-acp to another account', write: (k) => put(k, { GrantReadACP: grantOther, GrantWriteACP: grantOther }) },
    { name: 'CopyObject over itself x-amz-acl: public-read', write: async (k) => (await put(k, {}), copyOverItself(k, { ACL: 'public-read' })) },
    { name: 'CopyObject over itself x-amz-grant-full-control to another account', write: async (k) => (await put(k, {}), copyOverItself(k, { GrantFullControl: grantOther })) },
    { name: 'CreateMultipartUpload x-amz-acl: public-read', write: (k) => multipart(k, { ACL: 'public-read' }) },
    { name: 'CreateMultipartUpload x-amz-grant-full-control to another account', write: (k) => multipart(k, { GrantFullControl: grantOther }) },
    {
      name: 'POST object with acl public-read',
      write: async (k) => {
        const s = await postObject(env.backup, bucket, k, { acl: 'public-read' }, 'secret backup data');
        assert.ok(s === 204 || s === 200 || s === 201 || s === 403, `POST object answered ${s}`);
      },
    },
  ];

  FORMS.forEach((f, i) => {
    test(f.name, async () => {
      const Key = `data/a${i}/acl-${i}`;
      // The server may accept the write (it adds a version); what matters is who can read it then.
      await f.write(Key).catch((err: Error & { $metadata?: { httpStatusCode?: number } }) => assert.equal(err.$metadata?.httpStatusCode, 403, err.message));
      const anon = await fetch(`${env.endpoint}/${bucket}/${Key}`);
      await anon.arrayBuffer();
      assert.equal(anon.status, 403, 'an anonymous GET');
      const anonAcl = await fetch(`${env.endpoint}/${bucket}/${Key}?acl`);
      await anonAcl.arrayBuffer();
      assert.equal(anonAcl.status, 403, 'an anonymous GET ?acl');
      assert.equal(await status(other.send(new GetObjectCommand({ Bucket: bucket, Key }))), 403, 'another account reads the object');
      assert.equal(await status(other.send(new GetObjectAclCommand({ Bucket: bucket, Key }))), 403, 'another account reads its ACL');
      assert.equal(await status(other.send(new PutObjectAclCommand({ Bucket: bucket, Key, ACL: 'public-read' }))), 403, 'another account makes it public');
      const anonAfter = await fetch(`${env.endpoint}/${bucket}/${Key}`);
      await anonAfter.arrayBuffer();
      assert.equal(anonAfter.status, 403, 'still private');
      // Only if the write went through: the owner and the backup user still read it (restic and the trusted host).
      if ((await status(admin.send(new GetObjectCommand({ Bucket: bucket, Key })))) !== 404) {
        assert.equal(await status(admin.send(new GetObjectCommand({ Bucket: bucket, Key }))), 200, 'the owner reads it');
        assert.equal(await status(backup.send(new GetObjectCommand({ Bucket: bucket, Key }))), 200, 'the backup user reads it');
      }
    });
  });
});
