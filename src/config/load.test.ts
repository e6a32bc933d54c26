import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, parseConfig } from './load.js';

test('parses per-user rules with sizes and repository paths', () => {
  const c = parseConfig('serve:\n  users:\n    alice:\n      repos: [alice, shared/db]\n      maxSize: 1GiB\n    m:\n      appendOnly: false\n', 't');
  assert.deepEqual(c.serve.users.alice, { repos: [['alice'], ['shared', 'db']], maxSize: 2 ** 30 });
  assert.equal(c.serve.users.m?.appendOnly, false);
});

test('reports unknown keys and bad values with their path', () => {
  assert.throws(() => parseConfig('serve:\n  users:\n    alice:\n      appendonly: false\n', 'f.yaml'), (e: unknown) => e instanceof ConfigError && /serve\.users\.alice/.test(e.message));
  assert.throws(() => parseConfig('serve:\n  users:\n    alice:\n      repos: ["../x"]\n', 'f'), /serve\.users\.alice\.repos\.0/);
  assert.throws(() => parseConfig('serve:\n  users:\n    alice:\n      maxSize: lots\n', 'f'), /invalid size/);
  assert.throws(() => parseConfig('bogus: 1\n', 'f'), ConfigError);
  assert.throws(() => parseConfig('a: [\n', 'f'), /not valid YAML/);
});

test('s3 profiles and storage are optional; existing configs still parse', () => {
  const c = parseConfig('serve:\n  users: {}\n', 'f');
  assert.deepEqual(c.s3, { profiles: {} });
  assert.deepEqual(c.storage, {});
  assert.deepEqual(parseConfig('', 'f').s3, { profiles: {} });
});

test('parses s3 profiles and the storage section', () => {
  const c = parseConfig(
    [
      's3:',
      '  defaultProfile: admin',
      '  profiles:',
      '    admin: { endpoint: "https://s3.example.org", region: us-east-1, pathStyle: true, accessKeyId: AK, secretAccessKey: SK }',
      '    backup.v2: { credentialsFile: /etc/rwm/backup.credentials, credentialsProfile: default }',
      'storage:',
      '  minLifecycleDays: 30',
    ].join('\n'),
    'f',
  );
  assert.equal(c.s3.defaultProfile, 'admin');
  assert.deepEqual(c.s3.profiles.admin, { endpoint: 'https://s3.example.org', region: 'us-east-1', pathStyle: true, accessKeyId: 'AK', secretAccessKey: 'SK' });
  assert.deepEqual(c.s3.profiles['backup.v2'], { credentialsFile: '/etc/rwm/backup.credentials', credentialsProfile: 'default' });
  assert.equal(c.storage.minLifecycleDays, 30);
});

test('s3 profiles: unknown keys, bad names and bad values are reported with their path', () => {
  const bad = (yaml: string, re: RegExp) => assert.throws(() => parseConfig(yaml, 'f.yaml'), (e: unknown) => e instanceof ConfigError && re.test(e.message), yaml);
  bad('s3:\n  profiles:\n    admin: { secretKey: x }\n', /s3\.profiles\.admin: .*secretKey/);
  bad('s3:\n  profile: {}\n', /s3: Unrecognized key: "profile"/);
  bad('storage:\n  minLifecycle: 3\n', /storage: .*minLifecycle/);
  bad('s3:\n  profiles:\n    -bad: {}\n', /s3\.profiles\.-bad: profile names may use/);
  bad('s3:\n  profiles:\n    a: { endpoint: "ftp://x" }\n', /s3\.profiles\.a\.endpoint: endpoint must be an http/);
  bad('s3:\n  profiles:\n    a: { pathStyle: "yes" }\n', /s3\.profiles\.a\.pathStyle/);
  bad('storage:\n  minLifecycleDays: 0\n', /storage\.minLifecycleDays: minLifecycleDays must be at least 1/);
  bad('storage:\n  minLifecycleDays: 1.5\n', /storage\.minLifecycleDays: minLifecycleDays must be a whole number/);
});

test('s3 profiles: keys together, a credentials file or inline keys, defaultProfile must exist', () => {
  const bad = (yaml: string, re: RegExp) => assert.throws(() => parseConfig(yaml, 'f'), re, yaml);
  bad('s3:\n  profiles:\n    a: { accessKeyId: AK }\n', /s3\.profiles\.a\.secretAccessKey: accessKeyId and secretAccessKey must be given together/);
  bad('s3:\n  profiles:\n    a: { secretAccessKey: SK }\n', /s3\.profiles\.a\.accessKeyId: accessKeyId and secretAccessKey must be given together/);
  bad('s3:\n  profiles:\n    a: { sessionToken: T }\n', /s3\.profiles\.a\.sessionToken: sessionToken needs accessKeyId/);
  bad('s3:\n  profiles:\n    a: { accessKeyId: AK, secretAccessKey: SK, credentialsFile: /x }\n', /s3\.profiles\.a\.credentialsFile: give either/);
  bad('s3:\n  profiles:\n    a: { credentialsProfile: p }\n', /s3\.profiles\.a\.credentialsProfile: credentialsProfile needs credentialsFile/);
  bad('s3:\n  defaultProfile: b\n  profiles:\n    a: {}\n', /s3\.defaultProfile: defaultProfile "b" is not one of the profiles \(known: a\)/);
  bad('s3:\n  defaultProfile: toString\n  profiles:\n    a: {}\n', /s3\.defaultProfile/);
  bad('s3:\n  defaultProfile: a\n', /s3\.profiles is empty/);
  assert.throws(() => parseConfig('s3:\n  profiles:\n    a: { accessKeyId: AK, secretAccessKey: SECRETVALUE, bogus: 1 }\n', 'f'), (e: unknown) => !(e as Error).message.includes('SECRETVALUE'));
});

test('a user\'s root or allowed path cannot be the whole store (a --private-repos bypass); the error names the user', () => {
  for (const rule of ['root: ""', 'root: "/"', 'repos: ["/"]', 'repos: [alice, ""]', 'root: acme\n      repos: ["/"]']) {
    assert.throws(() => parseConfig(`serve:\n  users:\n    mallory:\n      ${rule}\n`, 'f.yaml'), (e: unknown) => e instanceof ConfigError && /serve\.users\.mallory\.(root|repos\.\d): user "mallory": "" or "\/" is the whole store/.test(e.message), rule);
  }
  assert.deepEqual(parseConfig('serve:\n  users:\n    web1:\n      root: customers/acme\n      repos: [etc]\n', 'f').serve.users.web1, { root: ['customers', 'acme'], repos: [['etc']] });
});
