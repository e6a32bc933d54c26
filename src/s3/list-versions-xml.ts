// A faster decoder for ListObjectVersions responses. The SDK's own XML parser builds its strings a
// character at a time and then walks a schema over the tree: for a 100k-version listing that is
// seconds of CPU, as much as the S3 server spends. Here a streaming XML parser (saxes) fills the SDK's
// output shape directly. The SDK still signs, resolves the endpoint, retries and turns every non-2xx
// response into its typed errors: only the body of a successful ListVersionsResult is read here.
import { Readable } from 'node:stream';
import type { DeleteMarkerEntry, ListObjectVersionsCommand, ListObjectVersionsCommandOutput, ObjectVersion } from '@aws-sdk/client-s3';
import { SaxesParser } from 'saxes';

/** The fields of a ListObjectVersions page that rwm reads. */
export type ListVersionsPage = Pick<ListObjectVersionsCommandOutput, 'Versions' | 'DeleteMarkers' | 'CommonPrefixes' | 'IsTruncated' | 'NextKeyMarker' | 'NextVersionIdMarker'>;

type Entry = Record<string, string>;

// Plain assignments, not conditional spreads: these run once per version (100k times a listing).
function versionOf(e: Entry): ObjectVersion {
  const v: ObjectVersion = { IsLatest: e.IsLatest === 'true' };
  if (e.Key !== undefined) v.Key = e.Key;
  if (e.VersionId !== undefined) v.VersionId = e.VersionId;
  if (e.Size !== undefined) v.Size = Number(e.Size);
  if (e.ETag !== undefined) v.ETag = e.ETag;
  if (e.LastModified !== undefined) v.LastModified = new Date(e.LastModified);
  if (e.OwnerID !== undefined) v.Owner = { ID: e.OwnerID };
  return v;
}

function markerOf(e: Entry): DeleteMarkerEntry {
  const m: DeleteMarkerEntry = { IsLatest: e.IsLatest === 'true' };
  if (e.Key !== undefined) m.Key = e.Key;
  if (e.VersionId !== undefined) m.VersionId = e.VersionId;
  if (e.LastModified !== undefined) m.LastModified = new Date(e.LastModified);
  if (e.OwnerID !== undefined) m.Owner = { ID: e.OwnerID };
  return m;
}

/**
 * Decodes a ListVersionsResult document (entities and character references resolved, whitespace
 * in keys kept). Returns undefined when the root element is something else (an `<Error>` sent with
 * a 200), so the caller can leave that response to the SDK. Throws on malformed XML.
 */
export function parseListVersionsXml(xml: string): ListVersionsPage | undefined {
  const out: ListVersionsPage = { Versions: [], DeleteMarkers: [], CommonPrefixes: [], IsTruncated: false };
  const versions = out.Versions as ObjectVersion[];
  const markers = out.DeleteMarkers as DeleteMarkerEntry[];
  const prefixes = out.CommonPrefixes as { Prefix?: string }[];
  const parser = new SaxesParser({ position: false });
  const path: string[] = [];
  let text = '';
  let entry: Entry | undefined;
  let root: string | undefined;
  parser.on('opentag', (tag) => {
    path.push(tag.name);
    text = '';
    if (path.length === 1) root = tag.name;
    else if (path.length === 2 && (tag.name === 'Version' || tag.name === 'DeleteMarker' || tag.name === 'CommonPrefixes')) entry = {};
  });
  parser.on('text', (t) => (text += t));
  parser.on('cdata', (t) => (text += t));
  parser.on('closetag', (tag) => {
    const depth = path.length;
    path.pop();
    if (root !== 'ListVersionsResult') return;
    if (depth === 2) {
      switch (tag.name) {
        case 'Version':
          if (entry !== undefined) versions.push(versionOf(entry));
          entry = undefined;
          break;
        case 'DeleteMarker':
          if (entry !== undefined) markers.push(markerOf(entry));
          entry = undefined;
          break;
        case 'CommonPrefixes':
          if (entry?.Prefix !== undefined) prefixes.push({ Prefix: entry.Prefix });
          entry = undefined;
          break;
        case 'IsTruncated':
          out.IsTruncated = text.trim() === 'true';
          break;
        case 'NextKeyMarker':
          out.NextKeyMarker = text;
          break;
        case 'NextVersionIdMarker':
          out.NextVersionIdMarker = text;
          break;
        default:
      }
    } else if (depth === 3 && entry !== undefined && tag.name !== 'Owner') {
      entry[tag.name] = text;
    } else if (depth === 4 && entry !== undefined && path[2] === 'Owner' && tag.name === 'ID') {
      entry.OwnerID = text;
    }
    text = '';
  });
  parser.write(xml).close();
  return root === 'ListVersionsResult' ? out : undefined;
}

/**
 * Adds to `cmd` a middleware, below the SDK's deserializer, that decodes a successful response's
 * body with parseListVersionsXml and hands the SDK an empty result in its place. The returned
 * function gives the page decoded by the last attempt, or undefined when the SDK decoded it (a
 * non-2xx response, a root element other than ListVersionsResult, or a client that does not run
 * middleware, such as a test's fake).
 */
export function decodeListVersionsFast(cmd: ListObjectVersionsCommand): () => ListVersionsPage | undefined {
  let page: ListVersionsPage | undefined;
  cmd.middlewareStack.add(
    (next) => async (args) => {
      const result = await next(args);
      const res = result.response as { statusCode?: number; body?: unknown };
      const status = res.statusCode ?? 0;
      page = undefined;
      if (status >= 200 && status < 300 && res.body instanceof Readable) {
        const chunks: Buffer[] = [];
        for await (const c of res.body) chunks.push(c as Buffer);
        const raw = Buffer.concat(chunks);
        page = parseListVersionsXml(raw.toString('utf8'));
        res.body = Readable.from(page === undefined ? [raw] : [Buffer.from('<ListVersionsResult/>')]);
      }
      return result;
    },
    { step: 'deserialize', priority: 'low', name: 'rwmDecodeListVersions' },
  );
  return () => page;
}
