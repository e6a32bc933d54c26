import assert from 'node:assert/strict';
import { chmod, mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parseConfig } from '../config/load.js';
import { UserError } from './exit.js';
import { resolveS3Connection, type ConnectionFlags } from './s3-connection.js';

const SECRET = 'sEcReT/with#and;chars';
const withKeys = { useEnvKeys: true };
const config = (yaml: string) => parseConfig(yaml, 'test.yaml');
const resolve = (flags: ConnectionFlags, env: NodeJS.ProcessEnv, yaml = '', opts = withKeys) => resolveS3Connection(flags, env, config(yaml), opts);
const isUsage = (re: RegExp) => (e: unknown) => e instanceof UserError && e.exitCode === 2 && re.test(e.message) && !e.message.includes(SECRET);

const TWO = `
s3:
  profiles:
    admin: { endpoint: 'https://admin.example/', region: admin-region, pathStyle: false, accessKeyId: ADMIN, secretAccessKey: adminsecret }
    other: { endpoint: 'http://other:7480', accessKeyId: OTHER, secretAccessKey: othersecret, sessionToken: tok }
`;

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rwm-s3-connection-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function credentialsFile(name: string, text: string, mode = 0o600): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, text);
  await chmod(file, mode);
  return file;
}

test('no profile and no environment: AWS, us-east-1, virtual-hosted, the SDK chain', async () => {
  const { connection, warnings } = await resolve({}, {});
  assert.deepEqual(connection, { region: 'us-east-1', pathStyle: false, source: 'the AWS SDK default chain' });
  assert.deepEqual(warnings, []);
});

test('profile: --profile > RWM_S3_PROFILE > defaultProfile > the only one > none', async () => {
  const withDefault = `${TWO}  defaultProfile: other\n`;
  assert.equal((await resolve({ profile: 'admin' }, { RWM_S3_PROFILE: 'other' }, withDefault)).connection.source, 'profile "admin"');
  assert.equal((await resolve({}, { RWM_S3_PROFILE: 'admin' }, withDefault)).connection.source, 'profile "admin"');
  assert.equal((await resolve({}, { RWM_S3_PROFILE: '' }, withDefault)).connection.source, 'profile "other"');
  assert.equal((await resolve({}, {}, 's3:\n  profiles:\n    solo: { accessKeyId: A, secretAccessKey: B }\n')).connection.source, 'profile "solo"');
  assert.equal((await resolve({}, {}, TWO)).connection.source, 'the AWS SDK default chain', 'two profiles and no default: none');
});

test('an unknown profile is a usage error listing the known ones', async () => {
  await assert.rejects(resolve({ profile: 'nope' }, {}, TWO), isUsage(/no S3 profile "nope".*known: admin, other/));
  await assert.rejects(resolve({}, { RWM_S3_PROFILE: 'nope' }, TWO), isUsage(/"nope"/));
  await assert.rejects(resolve({ profile: 'x' }, {}), isUsage(/it has none/));
  await assert.rejects(resolve({ profile: 'constructor' }, {}, TWO), isUsage(/no S3 profile "constructor"/));
});

test('endpoint: --endpoint > AWS_ENDPOINT_URL_S3 > AWS_ENDPOINT_URL > profile, without trailing slash', async () => {
  const env = { AWS_ENDPOINT_URL_S3: 'http://s3-env:1/', AWS_ENDPOINT_URL: 'http://env:2' };
  const f = { profile: 'admin' };
  assert.equal((await resolve({ ...f, endpoint: 'https://flag:3//' }, env, TWO)).connection.endpoint, 'https://flag:3');
  assert.equal((await resolve(f, env, TWO)).connection.endpoint, 'http://s3-env:1');
  assert.equal((await resolve(f, { AWS_ENDPOINT_URL_S3: '', AWS_ENDPOINT_URL: 'http://env:2' }, TWO)).connection.endpoint, 'http://env:2');
  assert.equal((await resolve(f, {}, TWO)).connection.endpoint, 'https://admin.example');
  assert.equal((await resolve({}, {})).connection.endpoint, undefined);
});

test('bad endpoints are usage errors, and a password in one is never echoed', async () => {
  for (const endpoint of ['ftp://x', 'not a url', '', 'http://h/?a=b']) await assert.rejects(resolve({ endpoint }, {}), isUsage(/endpoint/), endpoint);
  await assert.rejects(resolve({}, { AWS_ENDPOINT_URL: `http://u:${encodeURIComponent(SECRET)}@h` }), (e: unknown) => e instanceof UserError && !e.message.includes('sEcReT') && /user:password/.test(e.message));
});

test('region: --region > AWS_REGION > AWS_DEFAULT_REGION > profile > us-east-1', async () => {
  const f = { profile: 'admin' };
  const env = { AWS_REGION: 'env-region', AWS_DEFAULT_REGION: 'env-default' };
  assert.equal((await resolve({ ...f, region: 'flag-region' }, env, TWO)).connection.region, 'flag-region');
  assert.equal((await resolve(f, env, TWO)).connection.region, 'env-region');
  assert.equal((await resolve(f, { AWS_DEFAULT_REGION: 'env-default' }, TWO)).connection.region, 'env-default');
  assert.equal((await resolve(f, {}, TWO)).connection.region, 'admin-region');
  assert.equal((await resolve({ profile: 'other' }, {}, TWO)).connection.region, 'us-east-1');
});

test('path style: flag > profile > on exactly when an endpoint is set', async () => {
  assert.equal((await resolve({ profile: 'admin', pathStyle: true }, {}, TWO)).connection.pathStyle, true);
  assert.equal((await resolve({ profile: 'admin' }, {}, TWO)).connection.pathStyle, false, 'the profile says no');
  assert.equal((await resolve({ profile: 'other' }, {}, TWO)).connection.pathStyle, true, 'endpoint set');
  assert.equal((await resolve({ profile: 'other', pathStyle: false }, {}, TWO)).connection.pathStyle, false);
  assert.equal((await resolve({}, { AWS_ENDPOINT_URL: 'http://e' })).connection.pathStyle, true);
  assert.equal((await resolve({}, {})).connection.pathStyle, false);
});

test('keys: the environment > the profile; with useEnvKeys false the environment keys are ignored', async () => {
  const env = { AWS_ACCESS_KEY_ID: 'ENVKEY', AWS_SECRET_ACCESS_KEY: SECRET, AWS_SESSION_TOKEN: 'envtok', AWS_REGION: 'env-region', AWS_ENDPOINT_URL: 'http://env:9' };
  const fromEnv = (await resolve({ profile: 'admin' }, env, TWO)).connection;
  assert.deepEqual(fromEnv.credentials, { accessKeyId: 'ENVKEY', secretAccessKey: SECRET, sessionToken: 'envtok' });
  assert.equal(fromEnv.source, 'the environment (AWS_ACCESS_KEY_ID)');

  const own = (await resolve({ profile: 'other' }, env, TWO, { useEnvKeys: false })).connection;
  assert.deepEqual(own.credentials, { accessKeyId: 'OTHER', secretAccessKey: 'othersecret', sessionToken: 'tok' });
  assert.equal(own.source, 'profile "other"');
  assert.equal(own.region, 'env-region', 'region and endpoint variables still apply');
  assert.equal(own.endpoint, 'http://env:9');

  assert.deepEqual((await resolve({}, env, '', { useEnvKeys: true })).connection.credentials, { accessKeyId: 'ENVKEY', secretAccessKey: SECRET, sessionToken: 'envtok' });
  await assert.rejects(resolve({}, env, '', { useEnvKeys: false }), isUsage(/environment's keys are not used/));
  await assert.rejects(resolve({ profile: 'bare' }, env, 's3:\n  profiles:\n    bare: {}\n', { useEnvKeys: false }), isUsage(/profile "bare" has no keys/));
});

test('half the environment keys: a warning, and the profile keys', async () => {
  const r = await resolve({ profile: 'admin' }, { AWS_ACCESS_KEY_ID: 'ENVKEY' }, TWO);
  assert.equal(r.connection.source, 'profile "admin"');
  assert.deepEqual(r.connection.credentials, { accessKeyId: 'ADMIN', secretAccessKey: 'adminsecret' });
  assert.deepEqual(r.warnings, ["AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not: the environment's keys are not used"]);
});

test('a credentials file: its [default] or named section, by the SDK rules', async () => {
  const file = await credentialsFile('creds', `# comment\n[default]\naws_access_key_id = DEF\naws_secret_access_key = ${SECRET}\n\n[backup.prod]\naws_access_key_id=BK ; comment\naws_secret_access_key=bksecret\naws_session_token=bktok\n`);
  const yaml = `s3:\n  profiles:\n    backup: { endpoint: 'http://rgw:7480', credentialsFile: '${file}' }\n    named: { credentialsFile: '${file}', credentialsProfile: backup.prod }\n`;
  const d = await resolve({ profile: 'backup' }, {}, yaml);
  assert.deepEqual(d.connection.credentials, { accessKeyId: 'DEF', secretAccessKey: SECRET }, '"#" and ";" inside a value are kept');
  assert.equal(d.connection.source, `profile "backup" (credentials file ${file})`);
  assert.deepEqual(d.warnings, [], 'mode 600: no warning');
  const n = await resolve({ profile: 'named' }, {}, yaml);
  assert.deepEqual(n.connection.credentials, { accessKeyId: 'BK', secretAccessKey: 'bksecret', sessionToken: 'bktok' });
  assert.equal(n.connection.source, `profile "named" (credentials file ${file}, section [backup.prod])`);
  assert.ok(!JSON.stringify([d.connection.source, n.connection.source]).includes('secret'));
});

test('a credentials file readable by others: a warning naming the fix, never the keys', async () => {
  const file = await credentialsFile('loose', `[default]\naws_access_key_id = K\naws_secret_access_key = ${SECRET}\n`, 0o644);
  const { warnings } = await resolve({}, {}, `s3:\n  profiles:\n    p: { credentialsFile: '${file}' }\n`);
  assert.deepEqual(warnings, [`credentials file ${file} is readable by group or others (mode 644): chmod 600 ${file}`]);
  await chmod(file, 0o620);
  const w = await resolve({}, {}, `s3:\n  profiles:\n    p: { credentialsFile: '${file}' }\n`);
  assert.match(w.warnings[0] ?? '', /is writable by group or others \(mode 620\)/);
});

test('credentials file errors name the file and section, never a key', async () => {
  const profile = (file: string, section?: string) =>
    `s3:\n  profiles:\n    p: { credentialsFile: '${file}'${section !== undefined ? `, credentialsProfile: '${section}'` : ''} }\n`;
  const missing = join(dir, 'missing');
  await assert.rejects(resolve({}, {}, profile(missing)), isUsage(new RegExp(`cannot read credentials file ${missing}: no such file`)));
  const sub = join(dir, 'a-directory');
  await mkdir(sub);
  await assert.rejects(resolve({}, {}, profile(sub)), isUsage(/is not a regular file/));
  const file = await credentialsFile('other-sections', `[one]\naws_access_key_id = K\naws_secret_access_key = ${SECRET}\n[two]\naws_access_key_id = K2\n`);
  await assert.rejects(resolve({}, {}, profile(file)), isUsage(/has no \[default\] section \(it has: \[one\], \[two\]\)/));
  await assert.rejects(resolve({}, {}, profile(file, 'two')), isUsage(/section \[two\]: needs aws_access_key_id and aws_secret_access_key/));
  const empty = await credentialsFile('empty', '');
  await assert.rejects(resolve({}, {}, profile(empty)), isUsage(/has no \[default\] section \(it has none\)/));
});

test('the environment keys win over a credentials file, which is then not read', async () => {
  const r = await resolve({}, { AWS_ACCESS_KEY_ID: 'E', AWS_SECRET_ACCESS_KEY: 'S' }, `s3:\n  profiles:\n    p: { credentialsFile: '${join(dir, 'missing')}' }\n`);
  assert.equal(r.connection.source, 'the environment (AWS_ACCESS_KEY_ID)');
});
