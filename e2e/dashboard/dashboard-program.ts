// `flotilla dashboard` as the e2e suites run it — a real process of the built CLI — and the viewers
// they look at it as: ServiceAccounts on the real hub whose RBAC names the fleets they may see, with
// TokenRequest tokens. Shared by the dashboard suite (local and viewer-token mode) and the charts
// suite (the hub chart's in-cluster dashboard, run with its own ServiceAccount's token).
import { writeFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { expect } from '@jest/globals';
import yaml from 'js-yaml';
import { eventually, kubectlOk, type PlaneName } from '../framework/index.js';
import { startProgram, type Program } from '../membership/processes.js';

/** Starts `flotilla dashboard --kubeconfig KUBECONFIG ARGS...` and answers its URL (http or https) once it serves. */
export async function startDashboard(name: string, kubeconfig: string, args: string[]): Promise<[Program, string]> {
  const program = startProgram(name, ['dashboard', '--kubeconfig', kubeconfig, ...args]);
  let output = '';
  program.child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const url = await eventually(
    () => {
      const match = /serving (https?:\/\/\S+)/.exec(output);
      expect(match).not.toBeNull();
      return match?.[1] ?? '';
    },
    { timeoutMs: 60_000 },
  );
  return [program, url];
}

/**
 * A bearer token of a new ServiceAccount default/`account` that may list GlobalServices in
 * `workspaces` only: a viewer who sees exactly those fleets, whatever other fleets the shared hub holds.
 */
export async function viewerToken(account: string, workspaces: string[]): Promise<string> {
  await kubectlOk('hub', ['create', 'serviceaccount', account, '-n', 'default']);
  for (const workspace of workspaces) {
    // The hub's Fleet controller creates a workspace namespace after its Fleet; a busy hub takes a while.
    await eventually(() => kubectlOk('hub', ['get', 'namespace', workspace]), { timeoutMs: 120_000, intervalMs: 500 });
    await kubectlOk('hub', ['create', 'role', account, '-n', workspace, '--verb=list,get,watch', '--resource=globalservices.flotilla.dev']);
    await kubectlOk('hub', ['create', 'rolebinding', account, '-n', workspace, `--role=${account}`, `--serviceaccount=default:${account}`]);
  }
  return (await kubectlOk('hub', ['create', 'token', account, '-n', 'default', '--duration=1h'])).trim();
}

/** Writes to `path` a kubeconfig for `target` whose every user is `token`, and answers the path. */
export async function writeTokenKubeconfig(target: PlaneName, token: string, path: string): Promise<string> {
  const config = yaml.load(await kubectlOk(target, ['config', 'view', '--raw', '-o', 'yaml'])) as {
    users: { user: Record<string, unknown> }[];
  };
  for (const user of config.users) user.user = { token };
  writeFileSync(path, yaml.dump(config), { mode: 0o600 });
  return path;
}

export interface ViewerAnswer {
  status: number;
  body: string;
}

/**
 * GET `url` as a viewer (`token`, or none), trusting `ca` for an https dashboard. node:https, not
 * fetch(): Node's fetch cannot trust a test's own CA per request.
 */
export function viewerGet(
  url: string,
  options: { token?: string; ca?: string; headers?: Record<string, string> } = {},
): Promise<ViewerAnswer> {
  const target = new URL(url);
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  const headers = { ...options.headers, ...(options.token !== undefined ? { authorization: `Bearer ${options.token}` } : {}) };
  return new Promise((resolve, reject) => {
    const request = send(
      target,
      { method: 'GET', headers, ...(options.ca !== undefined ? { ca: options.ca } : {}) },
      (response: IncomingMessage) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          body += chunk;
        });
        response.on('error', reject);
        response.on('end', () => {
          resolve({ status: response.statusCode ?? 0, body });
        });
      },
    );
    request.on('error', reject);
    request.end();
  });
}

/** The JSON a dashboard page fetches, as a viewer; throws unless it answered 200. */
export async function viewerJson<T>(url: string, options: { token?: string; ca?: string } = {}): Promise<T> {
  const answer = await viewerGet(url, options);
  if (answer.status !== 200) throw new Error(`GET ${url}: ${answer.status} ${answer.body}`);
  return JSON.parse(answer.body) as T;
}
