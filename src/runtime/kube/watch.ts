// The watch stream: one long GET that yields each event as its line arrives, throws a
// KubeApiError for ERROR events and HTTP errors (`isGone` for 410), and never leaves the socket
// streaming when the consumer leaves early.
import { pathFor, type Discovery } from './discovery.js';
import { errorFromResponse } from './errors.js';
import { abortError, headerValue, readBody, record, send, signalOf } from './transport.js';
import { withType, type KubeObject, type Status, type TypeRef, type WatchEvent, type WatchOptions } from './types.js';

/** A metadata-only watch's representation: each event's object a PartialObjectMetadata (JSON as the fallback of an apiserver that lacks it). */
const METADATA_ACCEPT = 'application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io,application/json';

export async function* watchStream<T extends KubeObject>(
  d: Discovery,
  type: TypeRef,
  options: WatchOptions,
): AsyncGenerator<WatchEvent<T>, void, undefined> {
  const t = d.transport;
  const path = await pathFor(d, type, { namespace: options.namespace, collection: true, signal: options.signal });
  const fieldSelector = [options.fieldSelector, options.name !== undefined ? `metadata.name=${options.name}` : undefined]
    .filter((s) => s !== undefined && s !== '')
    .join(',');
  const { res, started } = await send(
    t,
    'GET',
    path,
    {
      query: {
        watch: 'true',
        resourceVersion: options.resourceVersion,
        allowWatchBookmarks: options.allowWatchBookmarks === true ? 'true' : undefined,
        timeoutSeconds: options.timeoutSeconds,
        labelSelector: options.labelSelector,
        fieldSelector: fieldSelector || undefined,
      },
      ...(options.metadataOnly ? { headers: { Accept: METADATA_ACCEPT } } : {}),
      ...signalOf(options),
    },
    true,
  );
  const code = res.statusCode ?? 0;
  if (code < 200 || code >= 300) {
    const text = await readBody(res).catch(() => '');
    record(t, { method: 'GET', path, code, durationMs: Date.now() - started, watch: true });
    throw errorFromResponse('WATCH', path, code, text, headerValue(res.headers['retry-after']));
  }
  try {
    for await (const event of watchEvents(res)) {
      if (event.type === 'ERROR') {
        const status = event.object as Status;
        throw errorFromResponse('WATCH', path, status.code ?? 500, JSON.stringify(status));
      }
      if (event.type === 'ADDED' || event.type === 'MODIFIED' || event.type === 'DELETED') {
        yield { type: event.type, object: withType(type, event.object as T) };
      } else if (event.type === 'BOOKMARK') {
        yield { type: 'BOOKMARK', object: event.object as { metadata: { resourceVersion: string } } };
      }
    }
  } catch (error) {
    if (options.signal?.aborted) throw abortError(options.signal);
    throw error;
  } finally {
    record(t, { method: 'GET', path, code, durationMs: Date.now() - started, watch: true });
    // Leaving early (break, abort, error) must not leave the socket streaming.
    if (!res.complete) res.destroy();
  }
}

/** The body of a watch, one JSON event per line, however the chunks split the lines. */
async function* watchEvents(body: AsyncIterable<unknown>): AsyncGenerator<{ type: string; object: unknown }, void, undefined> {
  let buffered = '';
  for await (const chunk of body) {
    buffered += (chunk as Buffer).toString('utf8');
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      if (line !== '') yield JSON.parse(line) as { type: string; object: unknown };
    }
  }
}
