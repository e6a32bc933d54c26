import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { assertNoCredentials, createResticEnv, redact, redactRepository, resolveRepository, settingsSecrets, type ResticRepo } from './env.js';
import { isResticError } from './errors.js';

const inherited = { PATH: '/usr/bin:/bin', HOME: '/home/u', TMPDIR: undefined };
const local: ResticRepo = { repository: '/srv/repo', passwordFile: '/etc/rwm/pw' };

describe('createResticEnv', () => {
  test('nothing but PATH, HOME and the repository settings', () => {
    assert.deepEqual(createResticEnv(local, inherited), {
      PATH: '/usr/bin:/bin',
      HOME: '/home/u',
      RESTIC_REPOSITORY: '/srv/repo',
      RESTIC_PASSWORD_FILE: '/etc/rwm/pw',
    });
  });

  test('S3 keys, region and cache directory go into the env; PATH has a default', () => {
    const env = createResticEnv(
      { repository: 's3:https://rgw:7480/b/p', passwordFile: '/pw', cacheDir: '/var/cache/rwm', s3: { accessKeyId: 'AK', secretAccessKey: 'SECRET', region: 'us-east-1' } },
      {},
    );
    assert.deepEqual(env, {
      PATH: '/usr/local/bin:/usr/bin:/bin',
      RESTIC_REPOSITORY: 's3:https://rgw:7480/b/p',
      RESTIC_PASSWORD_FILE: '/pw',
      RESTIC_CACHE_DIR: '/var/cache/rwm',
      AWS_ACCESS_KEY_ID: 'AK',
      AWS_SECRET_ACCESS_KEY: 'SECRET',
      AWS_DEFAULT_REGION: 'us-east-1',
    });
  });

  test('a relative password file becomes absolute (a cwd for restic cannot change it)', () => {
    assert.equal(createResticEnv({ ...local, passwordFile: 'pw' }, inherited).RESTIC_PASSWORD_FILE, `${process.cwd()}/pw`);
  });

  test('extraEnv adds variables but cannot set a password or what the settings own', () => {
    assert.equal(createResticEnv({ ...local, extraEnv: { RESTIC_CACERT: '/ca.pem' } }, inherited).RESTIC_CACERT, '/ca.pem');
    for (const k of ['RESTIC_PASSWORD', 'RESTIC_PASSWORD_COMMAND', 'RESTIC_REPOSITORY', 'AWS_SECRET_ACCESS_KEY']) {
      assert.throws(() => createResticEnv({ ...local, extraEnv: { [k]: 'x' } }, inherited), (e) => isResticError(e, 'INVALID'), k);
    }
    assert.throws(() => createResticEnv({ ...local, extraEnv: { 'A=B': 'x' } }, inherited), (e) => isResticError(e, 'INVALID'));
  });

  test('an empty password file name is refused', () => {
    assert.throws(() => createResticEnv({ ...local, passwordFile: '' }, inherited), (e) => isResticError(e, 'INVALID'));
  });
});

describe('repository strings', () => {
  test('user:password@ is refused, and the message does not echo either', () => {
    for (const r of ['rest:https://alice:hunter22@backup.example/alice/', 's3:https://AKIA:topsecret@rgw/b', 'rest:http://:hunter22@h/']) {
      assert.throws(
        () => assertNoCredentials(r),
        (e: unknown) => isResticError(e, 'INVALID') && !e.message.includes('hunter22') && !e.message.includes('topsecret') && !e.message.includes('alice:'),
      );
    }
    // a user name alone (sftp) is not a secret
    assertNoCredentials('sftp:backup@host:/srv/repo');
    assertNoCredentials('sftp://backup@host:22//srv/repo');
    assertNoCredentials('s3:https://rgw.example:7480/bucket/prefix');
    assert.equal(redactRepository('rest:https://a:b@h/x/'), 'rest:https://***@h/x/');
  });

  test('an S3 endpoint turns BUCKET/PREFIX into an s3: repository and must match a full one', () => {
    const s3 = { accessKeyId: 'a', secretAccessKey: 'b', endpoint: 'http://127.0.0.1:7480/' };
    assert.equal(resolveRepository({ ...local, repository: 'bucket/host1', s3 }), 's3:http://127.0.0.1:7480/bucket/host1');
    assert.equal(resolveRepository({ ...local, repository: 's3:http://127.0.0.1:7480/bucket', s3 }), 's3:http://127.0.0.1:7480/bucket');
    assert.throws(() => resolveRepository({ ...local, repository: 's3:https://elsewhere/bucket', s3 }), (e) => isResticError(e, 'INVALID'));
  });

  test('REST credentials go into the URL restic gets in its env only, encoded', () => {
    const repo = { ...local, repository: 'rest:https://backup.example:8000/alice/', rest: { username: 'alice', password: 'p@ss/w:rd' } };
    assert.equal(resolveRepository(repo), 'rest:https://alice:p%40ss%2Fw%3Ard@backup.example:8000/alice/');
    assert.deepEqual(settingsSecrets(repo), ['p%40ss%2Fw%3Ard', 'p@ss/w:rd']);
    assert.throws(() => resolveRepository({ ...repo, repository: '/srv/repo' }), (e) => isResticError(e, 'INVALID'));
  });

  test('control characters are refused', () => {
    assert.throws(() => resolveRepository({ ...local, repository: '/srv/repo\nx' }), (e) => isResticError(e, 'INVALID'));
  });
});

test('redact replaces each secret of 3 or more characters', () => {
  assert.equal(redact('key=SECRET and SECRET again, pw', ['SECRET', 'pw']), 'key=*** and *** again, pw');
});
