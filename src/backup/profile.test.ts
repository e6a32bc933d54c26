// backup.profiles as written in YAML: validation (typos, relative paths, secrets, owned restic options),
// inheritance, where forget may go, and the order of one repository's steps.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseConfig } from '../config/load.js';
import { planRepository, resolveProfile, runnableProfiles } from './profile.js';

const profiles = (yaml: string[]): ReturnType<typeof parseConfig>['backup']['profiles'] =>
  parseConfig(['backup:', '  profiles:', ...yaml.map((l) => `    ${l}`)].join('\n'), 'test.yaml').backup.profiles;

const LOCAL = "local: { repository: /srv/restic, passwordFile: /etc/rwm/pw }";
const REST = "offsite: { repository: 'rest:https://b.example/h1/', passwordCommand: [pass, show, rwm], restUser: h1, restPasswordFile: /etc/rwm/rest }";
const S3 = "bucket: { repository: 's3:https://rgw.example/bkt/repo', passwordFile: /etc/rwm/pw, s3Profile: backup }";

describe('backup profiles', () => {
  test('inheritance: fields replace the parent\'s, repositories and hooks merge by name; templates do not run', () => {
    const all = profiles([
      'base:',
      '  paths: [/etc, /home]',
      "  excludes: ['*.cache']",
      '  tags: [nightly]',
      `  repositories: { ${LOCAL} }`,
      '  hooks: { before: [{ command: [a] }], after: [{ command: [b] }] }',
      'template:',
      '  paths: [/x]',
      'child:',
      '  inherit: base',
      '  excludes: []',
      '  extraArgs: [--exclude-larger-than=2G]',
      `  repositories: { ${REST} }`,
      '  hooks: { before: [{ command: [c] }] }',
    ]);
    const p = resolveProfile('child', all);
    assert.deepEqual(p.paths, ['/etc', '/home']);
    assert.deepEqual(p.excludes, []);
    assert.deepEqual(p.tags, ['nightly']);
    assert.deepEqual(p.extraArgs, ['--exclude-larger-than=2G']);
    assert.deepEqual(p.repositories.map((r) => [r.name, r.kind]), [['local', 'local'], ['offsite', 'rest']]);
    assert.deepEqual(p.hooks.before.map((h) => h.command), [['c']]);
    assert.deepEqual(p.hooks.after.map((h) => h.command), [['b']]);
    assert.deepEqual(runnableProfiles(all), ['base', 'child']);
  });

  test('mistakes are errors with their path', () => {
    const bad: [string[], RegExp][] = [
      [['p: { pahts: [/etc] }'], /backup\.profiles\.p: Unrecognized key: "pahts"/],
      [[`p: { paths: [/etc], repositories: { l: { repository: /r, passwordFile: /pw, pasword: x } } }`], /Unrecognized key: "pasword"/],
      [['p: { paths: [etc] }'], /backup\.profiles\.p\.paths\.0: an absolute path/],
      [['p: { paths: [/etc], excludeFiles: [~/ex] }'], /excludeFiles\.0: an absolute path/],
      [['p: { repositories: { l: { repository: /r } } }'], /repositories\.l\.passwordFile: give passwordFile or passwordCommand, one of them/],
      [['p: { repositories: { l: { repository: /r, passwordFile: /pw, passwordCommand: [x] } } }'], /give passwordFile or passwordCommand/],
      [['p: { repositories: { l: { repository: /r, passwordFile: pw } } }'], /passwordFile: an absolute path/],
      [["p: { repositories: { l: { repository: 'rest:https://u:secret@h/', passwordFile: /pw } } }"], /no user:password in repository strings/],
      [["p: { repositories: { l: { repository: 's3:https://h/b', passwordFile: /pw } } }"], /s3: repositories need s3Profile/],
      [['p: { extraArgs: [--password-file=/x] }'], /extraArgs\.0: rwm sets these restic options itself/],
      [['p: { extraArgs: [-r/x] }'], /rwm sets these restic options itself/],
      [['p: { extraArgs: [--json] }'], /rwm sets these restic options itself/],
      [["p: { tags: ['a,b'] }"], /tags are non-empty and without commas/],
      [['p: { forget: { keepLast: 0 } }'], /forget\.keepLast/],
      [['p: { forget: { keepEvery: 1 } }'], /Unrecognized key: "keepEvery"/],
      [['p: { hooks: { befor: [] } }'], /Unrecognized key: "befor"/],
      [['p: { notify: { webhook: "ftp://x" } }'], /notify\.webhook/],
    ];
    for (const [yaml, re] of bad) assert.throws(() => profiles(yaml), re, yaml.join('\n'));
    assert.throws(() => parseConfig('backup: { statusDir: status }', 't'), /backup\.statusDir: an absolute path/);
    assert.throws(() => parseConfig('backup: { prometheusFile: /var/lib/node-exporter/rwm.txt }', 't'), /ending in \.prom/);
  });

  test('a forget policy is for local repositories: a profile with only off-site ones is refused, inherited or not', () => {
    const all = profiles([
      'base: { paths: [/etc], forget: { keepDaily: 7 } }',
      `offsite: { inherit: base, repositories: { ${REST}, ${S3} } }`,
      `mixed: { inherit: base, repositories: { ${LOCAL}, ${S3} } }`,
    ]);
    assert.throws(() => resolveProfile('offsite', all), /forget is for local repositories/);
    const mixed = resolveProfile('mixed', all);
    const [local, bucket] = mixed.repositories;
    assert.deepEqual(planRepository(mixed, local as never), ['before-hooks', 'backup', 'forget', 'after-hooks']);
    assert.deepEqual(planRepository(mixed, bucket as never), ['before-hooks', 'policed-check', 'backup', 'state-save', 'after-hooks'], 'no forget off-site');
  });

  test('repository kinds: rest:, rclone:, s3:, absolute local paths; others are refused', () => {
    const all = profiles([
      `p: { paths: [/etc], repositories: { ${LOCAL}, ${REST}, ${S3}, rc: { repository: 'rclone:remote:bkt/repo', passwordFile: /pw } } }`,
      "sftp: { paths: [/etc], repositories: { x: { repository: 'sftp:host:/srv', passwordFile: /pw } } }",
      'rel: { paths: [/etc], repositories: { x: { repository: srv/restic, passwordFile: /pw } } }',
      'circle: { inherit: circle2 }',
      'circle2: { inherit: circle }',
    ]);
    assert.deepEqual(resolveProfile('p', all).repositories.map((r) => r.kind), ['local', 'rest', 's3', 'rclone']);
    assert.throws(() => resolveProfile('sftp', all), /unsupported repository type: sftp/);
    assert.throws(() => resolveProfile('rel', all), /a local repository is an absolute path/);
    assert.throws(() => resolveProfile('circle', all), /inherit in a circle/);
    const p = resolveProfile('p', all);
    assert.deepEqual(planRepository(p, p.repositories[1] as never), ['before-hooks', 'backup', 'after-hooks']);
  });
});
