// The agent's local copies as Secrets in its own spoke namespace (their content: local-copy.ts):
// loaded once at start, so the last applied state is enforced with or without the hub, and written
// only when a copy changed. Part 0 is written last, since it carries the state and names the digest
// the other parts must match: a crash between parts leaves the old copy readable, never a mix.
import { fieldManagers } from '../api/index.js';
import { jsonEqual } from '../runtime/conditions.js';
import { isNotFound, type Kube, type KubeObject } from '../runtime/kube.js';
import type { Logger } from '../runtime/log.js';
import { LOCAL_COPY_LABEL, localCopyName, localCopySecrets, readLocalCopy, type LocalCopy } from './local-copy.js';

const SecretType = { apiVersion: 'v1', kind: 'Secret' } as const;

export interface LocalCopyStore {
  get(set: string): LocalCopy | undefined;
  /** The sets with a copy. */
  sets(): IterableIterator<string>;
  size(): number;
  /** Writes the copy, unless it is what is stored already. */
  save(copy: LocalCopy): Promise<void>;
  drop(set: string): Promise<void>;
}

/** Reads the copies of `hubNamespace`'s Works kept in `systemNamespace`, and keeps them from then on. */
export async function loadLocalCopies(options: {
  spoke: Kube;
  systemNamespace: string;
  hubNamespace: string;
  logger: Logger;
  signal: AbortSignal;
}): Promise<LocalCopyStore> {
  const { spoke, systemNamespace, signal } = options;
  const copies = new Map<string, LocalCopy>();
  const parts = new Map<string, number>();
  const listed = await spoke.list(SecretType, { namespace: systemNamespace, labelSelector: LOCAL_COPY_LABEL, signal });
  const secretsBySet = new Map<string, KubeObject[]>();
  for (const secret of listed.items) {
    const set = secret.metadata.labels?.[LOCAL_COPY_LABEL] ?? '';
    secretsBySet.set(set, [...(secretsBySet.get(set) ?? []), secret]);
  }
  for (const [set, secrets] of secretsBySet) {
    const copy = readLocalCopy(secrets);
    if (copy?.hubNamespace !== options.hubNamespace) continue;
    if (copy.manifests === undefined)
      options.logger.warn('local copy content unreadable; enforcing nothing for it until the hub answers', { set });
    copies.set(set, copy);
    parts.set(set, secrets.length);
  }
  const deletePart = (set: string, part: number): Promise<void> =>
    spoke.delete(SecretType, localCopyName(set, part), systemNamespace, { signal }).catch(ignoreNotFound);

  return {
    get: (set) => copies.get(set),
    sets: () => copies.keys(),
    size: () => copies.size,
    async save(copy) {
      if (jsonEqual(copies.get(copy.set), copy)) return;
      const secrets = localCopySecrets(copy, systemNamespace);
      for (const secret of [...secrets.slice(1), ...secrets.slice(0, 1)]) {
        await spoke.apply(secret, { fieldManager: fieldManagers.agent, force: true, signal });
      }
      for (let part = secrets.length; part < (parts.get(copy.set) ?? 0); part++) await deletePart(copy.set, part);
      copies.set(copy.set, copy);
      parts.set(copy.set, secrets.length);
    },
    async drop(set) {
      for (let part = (parts.get(set) ?? 1) - 1; part >= 0; part--) await deletePart(set, part);
      copies.delete(set);
      parts.delete(set);
    },
  };
}

function ignoreNotFound(error: unknown): void {
  if (!isNotFound(error)) throw error;
}
