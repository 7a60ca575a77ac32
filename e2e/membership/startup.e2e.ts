// A process that cannot serve exits: `flotilla hub` and `flotilla agent`, run as processes of the
// built CLI against real planes, end with a non-zero code and a one-line reason on stderr when
// their health address is taken, instead of lingering with their informers running; a hub that
// stops removes the temporary source cache it made, and one stopped while still starting exits 0.
import { once } from 'node:events';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eventually, freeLoopbackPort, kubectl, kubectlOk, plane, temporaryDirectory, uniqueName } from '../framework/index.js';
import { FleetType, MemberClusterType } from '../../src/api/index.js';
import { kubeFromFile, type Kube } from '../../src/runtime/index.js';
import { runFlotilla, startProgram, stopAll } from './processes.js';

const hubConfig = plane('hub').kubeconfigPath;
const hub: Kube = kubeFromFile(hubConfig, undefined, { userAgent: 'startup-e2e' });
const fleetName = uniqueName('fleet');
const clusterName = uniqueName('taken');
const spokePlane = 'spoke-2';
// Generous: these processes exit within a second or two; one still running by then never will.
const KILL_AFTER_MS = 60_000;
let occupier: Server;
let taken: string;

/** The one line `flotilla` prints when the health address is in use. */
const addressInUse = (address: string): RegExp =>
  new RegExp(
    `^flotilla: cannot serve /healthz, /readyz and /metrics: listen EADDRINUSE: address already in use ${address.replace(/\./g, '\\.')}\\n$`,
  );

beforeAll(async () => {
  const install = await runFlotilla(['install', '--kubeconfig', hubConfig]);
  if (install.code !== 0) throw new Error(`flotilla install failed: ${install.stderr}`);
  // Another process holds the address, as a second hub on the same machine would.
  occupier = createServer().listen(0, '127.0.0.1');
  await once(occupier, 'listening');
  taken = `127.0.0.1:${(occupier.address() as AddressInfo).port}`;
}, 120_000);

afterAll(async () => {
  await stopAll();
  await kubectl(spokePlane, ['delete', 'secret', '-n', 'flotilla-system', 'flotilla-agent-bootstrap', '--ignore-not-found']);
  await hub.delete(MemberClusterType, clusterName).catch(() => undefined);
  await hub.delete(FleetType, fleetName).catch(() => undefined);
  hub.close();
  occupier.close();
});

describe('a process that cannot serve exits', () => {
  it(
    'ends `flotilla hub` whose health address is taken with code 1 and one line saying so',
    async () => {
      const result = await runFlotilla(['hub', '--kubeconfig', hubConfig, '--health-address', taken], { killAfterMs: KILL_AFTER_MS });
      expect({ code: result.code, stillRunning: result.stillRunning }).toEqual({ code: 1, stillRunning: false });
      expect(result.stderr).toMatch(addressInUse(taken));
    },
    KILL_AFTER_MS + 10_000,
  );

  it(
    'ends `flotilla agent` whose health address is taken with code 1 and one line saying so',
    async () => {
      // The agent binds its health address once it has read its bootstrap: give it a real one.
      startProgram('hub-startup', ['hub', '--kubeconfig', hubConfig, '--health-address', '127.0.0.1:0']);
      await hub.create({ ...FleetType, metadata: { name: fleetName }, spec: {} });
      const join = await runFlotilla(['join', clusterName, '--fleet', fleetName, '--kubeconfig', hubConfig]);
      expect({ code: join.code, stderr: join.stderr }).toEqual({ code: 0, stderr: '' });
      await kubectlOk(spokePlane, ['apply', '-f', '-'], join.stdout);

      const result = await runFlotilla(['agent', '--kubeconfig', plane(spokePlane).kubeconfigPath, '--health-address', taken], {
        killAfterMs: KILL_AFTER_MS,
      });
      expect({ code: result.code, stillRunning: result.stillRunning }).toEqual({ code: 1, stillRunning: false });
      expect(result.stderr).toMatch(addressInUse(taken));
    },
    KILL_AFTER_MS + 120_000,
  );
});

describe('a hub that stops', () => {
  it('removes the source cache folder it made for itself, and leaves a given one in place', async () => {
    const tmp = await temporaryDirectory('hub-tmp');
    const given = join(tmp.path, 'given-cache');
    await mkdir(given);
    /** Runs a hub (a standby here: the hub of the test above leads) until it serves /healthz, then stops it; its exit code. */
    const runThenStop = async (name: string, extraArgs: string[]): Promise<number | null> => {
      const address = `127.0.0.1:${await freeLoopbackPort()}`;
      const program = startProgram(name, ['hub', '--kubeconfig', hubConfig, '--health-address', address, ...extraArgs], {
        env: { TMPDIR: tmp.path },
      });
      await eventually(async () => {
        expect((await fetch(`http://${address}/healthz`)).status).toBe(200);
      });
      await program.stop();
      return program.child.exitCode;
    };
    expect(await runThenStop(uniqueName('hub-own-cache'), [])).toBe(0);
    expect(await readdir(tmp.path)).toEqual(['given-cache']);
    expect(await runThenStop(uniqueName('hub-given-cache'), ['--source-cache-dir', given])).toBe(0);
    expect(await readdir(tmp.path)).toEqual(['given-cache']);
    await tmp.remove();
  }, 120_000);

  it('exits 0 when stopped while still starting, its first request to the hub unanswered', async () => {
    // An apiserver that takes the connection and never answers holds the hub in its first request,
    // as a slow hub does a Pod deleted in its first second; the connection shows it is that far.
    const silent = createServer();
    const connected = once(silent, 'connection');
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const tmp = await temporaryDirectory('hub-silent');
    const kubeconfig = join(tmp.path, 'kubeconfig');
    const server = `https://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    await writeFile(kubeconfig, (await readFile(hubConfig, 'utf8')).replace(/server: \S+/g, `server: ${server}`));
    const program = startProgram(uniqueName('hub-stopped-starting'), [
      'hub',
      '--kubeconfig',
      kubeconfig,
      '--health-address',
      '127.0.0.1:0',
    ]);
    const [socket] = (await connected) as [Socket];
    await program.stop();
    expect({ code: program.child.exitCode, signal: program.child.signalCode }).toEqual({ code: 0, signal: null });
    socket.destroy();
    silent.close();
    await tmp.remove();
  }, 60_000);
});
