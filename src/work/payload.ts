import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { promisify } from 'node:util';
import { gunzipSync, gzip, gzipSync } from 'node:zlib';
import type { Manifest, WorkPayload, WorkSpec } from '../api/index.js';
import { canonicalJson } from '../runtime/json.js';
import { isRecord } from '../runtime/kube.js';
import { errorMessage } from '../runtime/log.js';

// How a Work's manifests travel (the Work schema's spec.manifests / spec.payload / spec.part):
// inline when small, so `kubectl get work -o yaml` shows them; otherwise a gzip-compressed JSON array,
// base64-encoded, split across several Work objects when one object cannot hold it. The apiserver
// refuses requests over 1.5 MiB; a part's data stays within 1 MiB, which leaves room for metadata
// and the bounded status the agent writes into the same object.

/** What one Work's spec carries: the manifests inline, or one part of a payload. */
export type WorkContent = Pick<WorkSpec, 'manifests' | 'payload' | 'part'>;
type PayloadContent = Required<Pick<WorkSpec, 'payload'>> & Pick<WorkSpec, 'part'>;

export interface EncodeOptions {
  /** Content whose JSON is at most this many bytes stays inline. */
  inlineLimitBytes?: number;
  /** The most base64 characters one part's data may hold (the schema's maxLength). */
  maxDataChars?: number;
  /** The most parts (Work objects) one content may take (the schema's maximum). */
  maxParts?: number;
}

export const DEFAULT_INLINE_LIMIT_BYTES = 256 * 1024;
export const DEFAULT_MAX_DATA_CHARS = 1024 * 1024;
export const DEFAULT_MAX_PARTS = 64;
/** The schema's bounds on inline manifests. */
const INLINE_ITEMS = { min: 1, max: 1000 };

export type EncodeResult = { ok: true; contents: WorkContent[] } | { ok: false; reason: 'TooLarge'; message: string };

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');
const gzipAsync = promisify(gzip);

// Encodings made, by the manifests array and the options they were made with. A render is shared
// by every cluster with equal inputs (renderCached), so a fan-out to N clusters serialises and
// compresses it once, not N times: for kube-prometheus (3.7 MB) that is about half a second each.
// Manifests handed to the encoder must not be modified afterwards, as renders never are.
const encodings = new WeakMap<readonly Manifest[], Map<string, EncodeResult>>();
const optionsKey = (o: EncodeOptions): string => `${o.inlineLimitBytes ?? ''}/${o.maxDataChars ?? ''}/${o.maxParts ?? ''}`;

function remembered(manifests: readonly Manifest[], options: EncodeOptions): EncodeResult | undefined {
  return encodings.get(manifests)?.get(optionsKey(options));
}

function remember(manifests: readonly Manifest[], options: EncodeOptions, result: EncodeResult): EncodeResult {
  let byOptions = encodings.get(manifests);
  if (!byOptions) encodings.set(manifests, (byOptions = new Map<string, EncodeResult>()));
  byOptions.set(optionsKey(options), result);
  return result;
}

/** The content inline, when its JSON is small enough and the schema's item bounds allow it. */
function inlined(manifests: readonly Manifest[], json: Buffer, options: EncodeOptions): EncodeResult | undefined {
  const inlineLimit = options.inlineLimitBytes ?? DEFAULT_INLINE_LIMIT_BYTES;
  return json.length <= inlineLimit && manifests.length >= INLINE_ITEMS.min && manifests.length <= INLINE_ITEMS.max
    ? { ok: true, contents: [{ manifests: [...manifests] }] }
    : undefined;
}

/** The compressed JSON split into parts, each base64 of whole bytes so that every part's data is valid base64 on its own. */
function parted(json: Buffer, compressed: Buffer, options: EncodeOptions): EncodeResult {
  const bytesPerPart = Math.floor((options.maxDataChars ?? DEFAULT_MAX_DATA_CHARS) / 4) * 3;
  const count = Math.max(1, Math.ceil(compressed.length / bytesPerPart));
  const maxParts = options.maxParts ?? DEFAULT_MAX_PARTS;
  if (count > maxParts) {
    return {
      ok: false,
      reason: 'TooLarge',
      message: `${json.length} bytes of manifests compress to ${compressed.length} bytes, which needs ${count} parts; at most ${maxParts} are allowed`,
    };
  }
  const digest = sha256(json);
  const contents = Array.from({ length: count }, (_, index): WorkContent => {
    const payload: WorkPayload = {
      encoding: 'gzip',
      data: compressed.subarray(index * bytesPerPart, (index + 1) * bytesPerPart).toString('base64'),
      sha256: digest,
    };
    return count === 1 ? { payload } : { payload, part: { index, count } };
  });
  return { ok: true, contents };
}

/**
 * Encodes a Work's manifests into one or more Work contents, deterministically; an encoding made
 * before (here or by encodeContentInSlices) of the same array is returned as it is.
 */
export function encodeContent(manifests: readonly Manifest[], options: EncodeOptions = {}): EncodeResult {
  const known = remembered(manifests, options);
  if (known) return known;
  const json = Buffer.from(canonicalJson(manifests), 'utf8');
  return remember(manifests, options, inlined(manifests, json, options) ?? parted(json, gzipSync(json), options));
}

/**
 * encodeContent without holding the event loop: the canonical JSON is made one manifest at a time
 * with a turn of the loop between (the JSON of an array is its items' JSON joined, so the bytes are
 * the same), and gzip runs on libuv's thread pool. A multi-megabyte render would otherwise block
 * timers and sockets — the leader's Lease renewal among them — for as long as it takes.
 */
export async function encodeContentInSlices(manifests: readonly Manifest[], options: EncodeOptions = {}): Promise<EncodeResult> {
  const known = remembered(manifests, options);
  if (known) return known;
  const items: string[] = [];
  for (const manifest of manifests) {
    items.push(canonicalJson(manifest));
    await yieldToEventLoop();
  }
  const json = Buffer.from(`[${items.join(',')}]`, 'utf8');
  return remember(manifests, options, inlined(manifests, json, options) ?? parted(json, await gzipAsync(json), options));
}

export type DecodeFailureReason = 'NoContent' | 'MixedContent' | 'InvalidPart' | 'MissingParts' | 'Corrupt' | 'TooLarge' | 'DigestMismatch';

export type DecodeResult =
  | { ok: true; manifests: Manifest[] }
  | {
      ok: false;
      reason: DecodeFailureReason;
      message: string;
      /** For MissingParts: the absent indexes, ascending. */
      missing?: number[];
    };

export interface DecodeOptions {
  /** Refuses to inflate beyond this many bytes, so a hostile payload cannot exhaust memory. */
  maxDecodedBytes?: number;
}

export const DEFAULT_MAX_DECODED_BYTES = 64 * 1024 * 1024;

const failure = (reason: DecodeFailureReason, message: string, missing?: number[]): DecodeResult =>
  missing === undefined ? { ok: false, reason, message } : { ok: false, reason, message, missing };

const shortDigest = (digest: string): string => digest.slice(0, 12);

function isManifestList(value: unknown): value is Manifest[] {
  return (
    Array.isArray(value) &&
    value.every(
      (item) =>
        isRecord(item) &&
        typeof item.apiVersion === 'string' &&
        typeof item.kind === 'string' &&
        typeof (isRecord(item.metadata) ? item.metadata.name : undefined) === 'string',
    )
  );
}

/** Orders the parts of one payload by index, or says precisely what is wrong with the set. */
function collectParts(contents: readonly PayloadContent[]): WorkPayload[] | DecodeResult {
  const digests = [...new Set(contents.map((c) => c.payload.sha256))];
  if (digests.length > 1) {
    return failure(
      'MixedContent',
      `parts belong to different contents (sha256 ${digests.map(shortDigest).join(', ')}); waiting for one content`,
    );
  }
  const counts = [...new Set(contents.map((c) => c.part?.count ?? 1))];
  if (counts.length > 1) return failure('InvalidPart', `parts disagree on the part count (${counts.join(', ')})`);
  const count = counts[0] ?? 1;
  const byIndex = new Map<number, WorkPayload>();
  for (const { payload, part } of contents) {
    const index = part?.index ?? 0;
    if (!Number.isInteger(index) || index < 0 || index >= count)
      return failure('InvalidPart', `part index ${index} is outside 0..${count - 1}`);
    const seen = byIndex.get(index);
    if (seen !== undefined && seen.data !== payload.data) return failure('InvalidPart', `part ${index} appears twice with different data`);
    byIndex.set(index, payload);
  }
  const missing = Array.from({ length: count }, (_, i) => i).filter((i) => !byIndex.has(i));
  if (missing.length > 0) {
    return failure('MissingParts', `${missing.length} of ${count} parts missing: ${missing.join(', ')}`, missing);
  }
  return [...byIndex].sort(([a], [b]) => a - b).map(([, payload]) => payload);
}

/** Joins the contents of all Works of one source back into its manifests, verifying the digest. */
export function decodeContent(contents: readonly WorkContent[], options: DecodeOptions = {}): DecodeResult {
  if (contents.length === 0) return failure('NoContent', 'no Work content to decode');
  const inline = contents.flatMap((c) => (c.manifests ? [c.manifests] : []));
  const payloads = contents.flatMap(({ payload, part }) => (payload ? [part ? { payload, part } : { payload }] : []));
  if (contents.some((c) => (c.manifests === undefined) === (c.payload === undefined))) {
    return failure('InvalidPart', 'a Work must carry exactly one of manifests or payload');
  }
  if (inline.length > 0) {
    return inline.length === 1 && contents.length === 1
      ? { ok: true, manifests: inline[0] ?? [] }
      : failure('MixedContent', `${inline.length} inline and ${payloads.length} payload content(s) for one source`);
  }
  const parts = collectParts(payloads);
  if (!Array.isArray(parts)) return parts;
  const limit = options.maxDecodedBytes ?? DEFAULT_MAX_DECODED_BYTES;
  let json: Buffer;
  try {
    json = gunzipSync(Buffer.concat(parts.map((p) => Buffer.from(p.data, 'base64'))), { maxOutputLength: limit });
  } catch (error) {
    const code = isRecord(error) ? error.code : undefined;
    return code === 'ERR_BUFFER_TOO_LARGE'
      ? failure('TooLarge', `payload inflates beyond ${limit} bytes`)
      : failure('Corrupt', `payload does not decompress: ${errorMessage(error)}`);
  }
  const expected = parts[0]?.sha256 ?? '';
  const actual = sha256(json);
  if (actual !== expected) {
    return failure('DigestMismatch', `payload sha256 is ${shortDigest(actual)}, expected ${shortDigest(expected)}`);
  }
  let manifests: unknown;
  try {
    manifests = JSON.parse(json.toString('utf8'));
  } catch {
    return failure('Corrupt', 'payload is not JSON');
  }
  return isManifestList(manifests) ? { ok: true, manifests } : failure('Corrupt', 'payload is not a list of Kubernetes objects');
}
