// Who may see which fleet. The dashboard's watches are shared by every viewer, so each answer is
// narrowed to the fleets the viewer may see, asked of the hub apiserver itself: a
// SelfSubjectAccessReview made *with the viewer's own credentials* — may I list GlobalServices in
// this fleet's workspace namespace? The apiserver authenticates the token (an invalid one gets 401,
// which the dashboard passes on) and authorizes it with the hub's own RBAC, so the dashboard needs
// no tokenreviews/subjectaccessreviews permission and understands any authentication the apiserver
// does (ServiceAccount tokens, OIDC). Answers are cached briefly per token digest and namespace,
// so a page load costs no review once its fleets are known.
import { createHash } from 'node:crypto';
import { GlobalServiceType, group, plurals } from '../api/index.js';
import { isUnauthorized, type Kube, type KubeObject } from '../runtime/index.js';
import { createLruCache } from '../runtime/lru.js';

/** Who is looking: the dashboard's own kubeconfig identity (local mode), or a request's bearer token. */
export type Viewer = { kind: 'local' } | { kind: 'bearer'; token: string };

export type Decision = 'allowed' | 'denied' | 'unauthenticated';

/** The token of an `Authorization: Bearer TOKEN` header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}

/**
 * Headers by which an authenticating proxy says who a user is without passing on their credentials
 * (the apiserver's request-header names, and oauth2-proxy's). The dashboard cannot act on them: it
 * would have to impersonate (a broad right) or hold the apiserver's request-header client
 * certificate (the power to be anyone). docs/design.md, Dashboard, says why.
 */
export const identityOnlyHeaders = ['x-remote-user', 'x-remote-group', 'x-forwarded-user', 'x-auth-request-user'] as const;

/** Who a request is in viewer-token mode, from its headers; or why it is answered 401. */
export function bearerViewer(headers: Readonly<Record<string, string | string[] | undefined>>): { viewer: Viewer } | { refused: string } {
  const authorization = headers['authorization'];
  const token = bearerToken(typeof authorization === 'string' ? authorization : undefined);
  if (token !== undefined) return { viewer: { kind: 'bearer', token } };
  const named = identityOnlyHeaders.filter((name) => headers[name] !== undefined);
  if (named.length > 0)
    return {
      refused:
        `${named.join(', ')} name a user but carry no credentials: this dashboard acts with each viewer's own token and holds no ` +
        'right to impersonate. Have the proxy forward the user\'s token as "Authorization: Bearer TOKEN" ' +
        '(oauth2-proxy --pass-authorization-header, with the hub apiserver accepting that OIDC issuer)',
    };
  return { refused: 'send the viewer\'s credentials as "Authorization: Bearer TOKEN"' };
}

export interface ResourceAttributes {
  verb: string;
  group: string;
  resource: string;
  /** Absent: in every namespace (or a cluster-scoped resource). */
  namespace?: string;
}

/** A SelfSubjectAccessReview: may whoever sends it do this? */
export function accessReview(attributes: ResourceAttributes): KubeObject {
  return { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', metadata: {}, spec: { resourceAttributes: attributes } };
}

/** The review that decides whether a viewer sees a fleet: may they list its GlobalServices? */
export function fleetAccessReview(workspace: string): KubeObject {
  return accessReview({ namespace: workspace, verb: 'list', group, resource: plurals[GlobalServiceType.kind] });
}

/** A review's answer, or the error it failed with, as a decision (401 means the token is not valid). */
export function decisionOf(outcome: { review: KubeObject } | { error: unknown }): Decision {
  if ('error' in outcome) {
    if (isUnauthorized(outcome.error)) return 'unauthenticated';
    throw outcome.error;
  }
  const status = outcome.review.status as { allowed?: boolean } | undefined;
  return status?.allowed === true ? 'allowed' : 'denied';
}

/** The key a decision is cached under: never the token itself, which must not sit in memory dumps. */
export function decisionKey(viewer: Viewer, workspace: string): string {
  const who = viewer.kind === 'local' ? 'local' : createHash('sha256').update(viewer.token).digest('hex');
  return `${who}|${workspace}`;
}

export interface FleetAccessOptions {
  /** A client that acts as the viewer, and its close. */
  clientFor: (viewer: Viewer) => { kube: Kube; close: () => void };
  ttlMs: number;
  now?: () => number;
  /** Decisions kept at most (viewers × fleets). */
  capacity?: number;
}

export interface FleetAccess {
  /** Of `fleets` (name → workspace namespace), those the viewer may see; or 'unauthenticated'. */
  visibleFleets(viewer: Viewer, fleets: ReadonlyMap<string, string>): Promise<Set<string> | 'unauthenticated'>;
}

export function createFleetAccess(options: FleetAccessOptions): FleetAccess {
  const now = options.now ?? Date.now;
  const cache = createLruCache<{ decision: Decision; at: number }>(options.capacity ?? 10_000);
  const cached = (key: string): Decision | undefined => {
    const entry = cache.get(key);
    return entry !== undefined && now() - entry.at < options.ttlMs ? entry.decision : undefined;
  };
  return {
    async visibleFleets(viewer, fleets) {
      const unknown = [...new Set(fleets.values())].filter((workspace) => cached(decisionKey(viewer, workspace)) === undefined);
      if (unknown.length > 0) {
        const client = options.clientFor(viewer);
        try {
          const decisions = await Promise.all(
            unknown.map((workspace) =>
              client.kube.create(fleetAccessReview(workspace)).then(
                (review) => decisionOf({ review }),
                (error: unknown) => decisionOf({ error }),
              ),
            ),
          );
          decisions.forEach((decision, index) => {
            cache.set(decisionKey(viewer, unknown[index] ?? ''), { decision, at: now() });
          });
          if (decisions.includes('unauthenticated')) return 'unauthenticated';
        } finally {
          client.close();
        }
      }
      const visible = new Set<string>();
      for (const [fleet, workspace] of fleets) {
        const decision = cached(decisionKey(viewer, workspace));
        if (decision === 'unauthenticated') return 'unauthenticated';
        if (decision === 'allowed') visible.add(fleet);
      }
      return visible;
    },
  };
}
