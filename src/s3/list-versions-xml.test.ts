// The fast ListObjectVersions decoder on tricky documents, checked against the SDK's own decoding of
// the same bytes through a real S3Client whose HTTP handler is a stub; and the paths it leaves to the
// SDK (errors, a 200 carrying <Error>).
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { ListObjectVersionsCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { decodeListVersionsFast, parseListVersionsXml, type ListVersionsPage } from './list-versions-xml.js';

const HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n<ListVersionsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">';

/** Keys with entities, character references, raw UTF-8, spaces at both ends; truncated; pretty-printed. */
const TRICKY = `${HEAD}
  <Name>b</Name><Prefix>p/</Prefix><KeyMarker></KeyMarker><VersionIdMarker></VersionIdMarker>
  <NextKeyMarker>p/a&amp;b &lt;c&gt;</NextKeyMarker><NextVersionIdMarker>v&#x2B;2</NextVersionIdMarker>
  <MaxKeys>1000</MaxKeys><IsTruncated>true</IsTruncated>
  <Version>
    <Key>p/a&amp;b &lt;c&gt; &quot;q&quot; &apos;s&apos;</Key><VersionId>v1</VersionId><IsLatest>true</IsLatest>
    <LastModified>2026-12-07T02:43:27.123Z</LastModified><ETag>&quot;0123456789abcdef0123456789abcdef&quot;</ETag>
    <Size>123</Size><StorageClass>STANDARD</StorageClass>
    <Owner><ID>rwmadmin</ID><DisplayName>rwm admin</DisplayName></Owner>
  </Version>
  <DeleteMarker><Key>p/a&amp;b &lt;c&gt; &quot;q&quot; &apos;s&apos;</Key><VersionId>m1</VersionId><IsLatest>false</IsLatest><LastModified>2026-12-07T02:43:26.000Z</LastModified><Owner><ID></ID><DisplayName></DisplayName></Owner></DeleteMarker>
  <Version><Key>p/ünï 😀 &#x1F600;&#233;&#13;x</Key><VersionId>null</VersionId><IsLatest>false</IsLatest><LastModified>2026-01-01T00:00:00.000Z</LastModified><ETag>"abc-2"</ETag><Size>0</Size></Version>
  <Version><Key>p/  spaced  </Key><VersionId>v3</VersionId><IsLatest>true</IsLatest><LastModified>2026-01-01T00:00:00.000Z</LastModified><ETag>"e"</ETag><Size>9007199254740991</Size><Owner><ID>o</ID></Owner></Version>
  <CommonPrefixes><Prefix>p/d&amp;/</Prefix></CommonPrefixes>
  <CommonPrefixes><Prefix>p/e/</Prefix></CommonPrefixes>
</ListVersionsResult>`;

const ONLY_MARKERS = `${HEAD}<Name>b</Name><Prefix></Prefix><KeyMarker>a</KeyMarker><VersionIdMarker>x</VersionIdMarker><MaxKeys>2</MaxKeys><IsTruncated>false</IsTruncated><DeleteMarker><Key>k1</Key><VersionId>d1</VersionId><IsLatest>true</IsLatest><LastModified>2026-12-07T02:00:00.000Z</LastModified></DeleteMarker><DeleteMarker><Key>k2</Key><VersionId>d2</VersionId><IsLatest>true</IsLatest><LastModified>2026-12-07T02:00:01.000Z</LastModified><Owner><ID>u</ID></Owner></DeleteMarker></ListVersionsResult>`;

const EMPTY = `${HEAD}<Name>b</Name><Prefix>none/</Prefix><KeyMarker></KeyMarker><VersionIdMarker></VersionIdMarker><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated></ListVersionsResult>`;

/** A real S3Client whose every request is answered with `status` and `body`. */
function stubClient(status: number, body: string): S3Client {
  return new S3Client({
    region: 'us-east-1',
    endpoint: 'http://127.0.0.1:9',
    forcePathStyle: true,
    credentials: { accessKeyId: 'AK', secretAccessKey: 'SK' },
    maxAttempts: 1,
    requestHandler: {
      handle: () => Promise.resolve({ response: { statusCode: status, reason: '', headers: { 'content-type': 'application/xml' }, body: Readable.from([Buffer.from(body, 'utf8')]) } }),
    },
  });
}

const command = (): ListObjectVersionsCommand => new ListObjectVersionsCommand({ Bucket: 'b', Prefix: 'p/' });

/** The fields rwm reads, as plain data, so the SDK's output and ours compare with deepEqual. */
function fields(p: ListVersionsPage): unknown {
  const owner = (o: { ID?: string | undefined } | undefined): string => o?.ID ?? '';
  return {
    versions: (p.Versions ?? []).map((v) => [v.Key, v.VersionId, v.IsLatest === true, v.Size, v.ETag, v.LastModified?.getTime(), owner(v.Owner)]),
    markers: (p.DeleteMarkers ?? []).map((m) => [m.Key, m.VersionId, m.IsLatest === true, m.LastModified?.getTime(), owner(m.Owner)]),
    prefixes: (p.CommonPrefixes ?? []).map((c) => c.Prefix),
    truncated: p.IsTruncated === true,
    next: [p.NextKeyMarker ?? '', p.NextVersionIdMarker ?? ''],
  };
}

describe('parseListVersionsXml', () => {
  test('decodes entities, character references and UTF-8 in keys, keeps spaces, reads owners and markers', () => {
    const p = parseListVersionsXml(TRICKY);
    assert.ok(p);
    assert.deepEqual(fields(p), {
      versions: [
        ['p/a&b <c> "q" \'s\'', 'v1', true, 123, '"0123456789abcdef0123456789abcdef"', Date.parse('2026-12-07T02:43:27.123Z'), 'rwmadmin'],
        ['p/ünï 😀 😀é\rx', 'null', false, 0, '"abc-2"', Date.parse('2026-01-01T00:00:00.000Z'), ''],
        ['p/  spaced  ', 'v3', true, 9007199254740991, '"e"', Date.parse('2026-01-01T00:00:00.000Z'), 'o'],
      ],
      markers: [['p/a&b <c> "q" \'s\'', 'm1', false, Date.parse('2026-12-07T02:43:26.000Z'), '']],
      prefixes: ['p/d&/', 'p/e/'],
      truncated: true,
      next: ['p/a&b <c>', 'v+2'],
    });
  });

  test('a page of only delete markers, not truncated, without next markers', () => {
    const p = parseListVersionsXml(ONLY_MARKERS);
    assert.ok(p);
    assert.deepEqual(fields(p), {
      versions: [],
      markers: [
        ['k1', 'd1', true, Date.parse('2026-12-07T02:00:00.000Z'), ''],
        ['k2', 'd2', true, Date.parse('2026-12-07T02:00:01.000Z'), 'u'],
      ],
      prefixes: [],
      truncated: false,
      next: ['', ''],
    });
    assert.equal(p.NextKeyMarker, undefined);
  });

  test('leaves a document whose root is not ListVersionsResult to the caller, and rejects malformed XML', () => {
    assert.equal(parseListVersionsXml('<Error><Code>InternalError</Code></Error>'), undefined);
    assert.throws(() => parseListVersionsXml(`${HEAD}<Version><Key>a</Version></ListVersionsResult>`));
    assert.throws(() => parseListVersionsXml(`${HEAD}<Version><Key>a &bogus; b</Key></Version></ListVersionsResult>`));
  });
});

describe('decodeListVersionsFast through a real S3Client', () => {
  // Without the astral character reference: the SDK decodes &#x1F600; with String.fromCharCode, to U+F600.
  const tricky = TRICKY.replace('&#x1F600;', '');
  for (const [name, xml] of [['tricky', tricky], ['only delete markers', ONLY_MARKERS], ['empty', EMPTY]] as const) {
    test(`decodes the "${name}" page itself, to what the SDK decodes from the same bytes`, async () => {
      const sdk = await stubClient(200, xml).send(command());
      const cmd = command();
      const decoded = decodeListVersionsFast(cmd);
      await stubClient(200, xml).send(cmd);
      const ours = decoded();
      assert.ok(ours, 'the middleware decoded the page');
      assert.deepEqual(fields(ours), fields(sdk));
    });
  }

  test('a 403 still becomes the SDK\'s typed error, with its status', async () => {
    const cmd = command();
    const decoded = decodeListVersionsFast(cmd);
    const body = '<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>no</Message><RequestId>r</RequestId></Error>';
    const err = await stubClient(403, body).send(cmd).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof S3ServiceException, `an S3ServiceException, not ${String(err)}`);
    assert.equal(err.name, 'AccessDenied');
    assert.equal(err.$metadata.httpStatusCode, 403);
    assert.equal(decoded(), undefined);
  });

  test('a 404 NoSuchBucket and a 500 keep their names and statuses', async () => {
    for (const [status, code] of [[404, 'NoSuchBucket'], [500, 'InternalError']] as const) {
      const cmd = command();
      decodeListVersionsFast(cmd);
      const err = await stubClient(status, `<Error><Code>${code}</Code><Message>m</Message></Error>`).send(cmd).then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof S3ServiceException);
      assert.equal(err.name, code);
      assert.equal(err.$metadata.httpStatusCode, status);
    }
  });

  test('a 200 whose body is not a ListVersionsResult is left to the SDK', async () => {
    const cmd = command();
    const decoded = decodeListVersionsFast(cmd);
    await stubClient(200, '<?xml version="1.0"?><Other><IsTruncated>true</IsTruncated></Other>').send(cmd).catch(() => undefined);
    assert.equal(decoded(), undefined);
  });
});
