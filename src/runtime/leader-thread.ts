// Leader election on a thread of its own: the elector of leader.ts runs in a worker_threads Worker,
// with its own event loop, its own V8 heap and its own connection to the apiserver, and the main
// thread only hears from it whether it leads.
//
// Why: on the main thread a renewal waits for whatever holds the event loop. At 10,000 clusters
// the hub's loop was held for up to 8.2 s at a time (bench/fanout.ts), not by one long function but
// by a busy process starved of CPU on a saturated machine: a profile showed scavenges of a 4 MiB
// young generation taking 500 ms of wall time, with or without --single-threaded-gc. A thread
// that sleeps between renewals is what the kernel's scheduler favours when it wakes, and no pause
// of the main heap stops it, so renewals go out on time however busy the controllers are.
//
// A leader whose main thread is wedged must still hand over: the main thread says it is alive every
// second, and the leader thread withholds its renewals once it has not heard that for the stall
// limit (default four lease durations: 60 s at 15 s), so that the lease runs out and another
// replica takes over. Leading stays safe the same way it always was: the lease is held only while it
// is renewed, and the main thread's controllers stop when the leader thread says it no longer leads.
//
// Built, the worker runs dist/leader-thread.mjs, this module bundled on its own beside the program
// (hack/build.ts); run from the sources (tsx, jest) it registers tsx first, to load this file as
// TypeScript.
import { Writable } from 'node:stream';
import { isMainThread, parentPort, Worker, workerData, type MessagePort } from 'node:worker_threads';
import { kubeFromPortable, type PortableKube, type RequestRecord } from './kube.js';
import { createLeaderElector, type ElectionEnd, type LeaderElectionOptions, type LeaderElector } from './leader.js';
import { createLogger, errorMessage } from './log.js';

/** How often the main thread tells the leader thread it is alive. */
const ALIVE_INTERVAL_MS = 1000;

/** Marks the worker's data, so that the module starts the elector only in a worker made for it. */
const ROLE = 'flotilla-leader-election';

export interface LeaderThreadOptions extends Omit<LeaderElectionOptions, 'withholdRenewal'> {
  /** The leader thread renews only while the main thread said it is alive this recently (default 4 lease durations). */
  mainThreadStallLimitMs?: number;
  /** Each request the leader thread made (its own client's), for the main thread's request metrics. */
  onRequest?(record: RequestRecord): void;
}

type Timing = Pick<LeaderElectionOptions, 'leaseDurationSeconds' | 'renewDeadlineMs' | 'retryPeriodMs' | 'releaseOnCancel'>;

interface ThreadData {
  role: typeof ROLE;
  kube: PortableKube;
  lease: { namespace: string; name: string; identity: string } & Timing;
  stallLimitMs: number;
}

type ToThread = { type: 'alive' } | { type: 'stop' };
type FromThread =
  | { type: 'leading'; leading: boolean }
  | { type: 'renewed'; sincePreviousMs: number }
  | { type: 'request'; record: RequestRecord }
  | { type: 'log'; line: string }
  | { type: 'ended'; end: ElectionEnd };

/**
 * The elector on a thread of its own (see above), or undefined when the client cannot be rebuilt
 * in another thread (Kube.portable): then the caller elects on the main thread.
 */
export function createLeaderThread(options: LeaderThreadOptions): LeaderElector | undefined {
  const portable = options.kube.portable();
  if (!portable) return undefined;
  const durationSeconds = options.leaseDurationSeconds ?? 15;
  const data: ThreadData = {
    role: ROLE,
    kube: portable,
    lease: {
      namespace: options.namespace,
      name: options.name,
      identity: options.identity,
      ...timingOf(options),
    },
    stallLimitMs: options.mainThreadStallLimitMs ?? 4 * durationSeconds * 1000,
  };
  let leading = false;
  return {
    isLeader: () => leading,
    run: (signal, lead) =>
      electOnThread(data, options, signal, lead, (value) => {
        leading = value;
      }),
  };
}

/** LeaderElector.run, with the election on a worker thread and `lead` on this one. */
function electOnThread(
  data: ThreadData,
  options: LeaderThreadOptions,
  signal: AbortSignal,
  lead: (leading: AbortSignal) => Promise<void>,
  noteLeading: (leading: boolean) => void,
): Promise<ElectionEnd> {
  return new Promise<ElectionEnd>((resolve) => {
    const worker = startWorker(data);
    const send = (message: ToThread): void => {
      worker.postMessage(message);
    };
    const alive = setInterval(() => {
      send({ type: 'alive' });
    }, ALIVE_INTERVAL_MS);
    let leadership: AbortController | undefined;
    let work: Promise<void> = Promise.resolve();
    let ended = false;
    // A graceful stop ends the controllers' work first, then lets the thread release the lease.
    const onStop = (): void => {
      leadership?.abort(new Error('stopping'));
      void work.then(() => {
        send({ type: 'stop' });
      });
    };
    signal.addEventListener('abort', onStop, { once: true });
    let leading = false;
    const setLeading = (value: boolean): void => {
      if (value === leading) return;
      leading = value;
      noteLeading(value);
      options.onLeading?.(value);
      if (!value) {
        leadership?.abort(new Error('leadership lost'));
        return;
      }
      leadership = new AbortController();
      work = lead(leadership.signal).catch((error: unknown) => {
        options.logger?.error('leader work failed', { error: String(error) });
      });
    };
    const finish = (end: ElectionEnd): void => {
      if (ended) return;
      ended = true;
      clearInterval(alive);
      signal.removeEventListener('abort', onStop);
      setLeading(false);
      void work.then(() => {
        resolve(end);
      });
    };
    worker.on('message', (message: FromThread) => {
      if (message.type === 'leading') setLeading(message.leading);
      else if (message.type === 'renewed') options.onRenewed?.(message.sincePreviousMs);
      else if (message.type === 'request') options.onRequest?.(message.record);
      else if (message.type === 'log') relayLog(options, message.line);
      else finish(message.end);
    });
    worker.on('error', (error) => {
      options.logger?.error('the leader-election thread failed', { error: errorMessage(error) });
    });
    // A thread that ends without saying how (it failed, or was terminated) no longer renews.
    worker.on('exit', () => {
      finish('lost');
    });
  });
}

function timingOf(options: Timing): Timing {
  const { leaseDurationSeconds, renewDeadlineMs, retryPeriodMs, releaseOnCancel } = options;
  return {
    ...(leaseDurationSeconds !== undefined ? { leaseDurationSeconds } : {}),
    ...(renewDeadlineMs !== undefined ? { renewDeadlineMs } : {}),
    ...(retryPeriodMs !== undefined ? { retryPeriodMs } : {}),
    ...(releaseOnCancel !== undefined ? { releaseOnCancel } : {}),
  };
}

function startWorker(data: ThreadData): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(new URL('leader-thread.mjs', here), { workerData: data });
  const load = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(here)}); })`;
  return new Worker(load, { eval: true, workerData: data });
}

/**
 * A line the thread logged (winston's JSON), logged again by the main thread's logger (which may
 * write elsewhere than stdout) with its own component and time.
 */
function relayLog(options: LeaderThreadOptions, line: string): void {
  const { level = 'info', message = '', ...meta } = JSON.parse(line) as Record<string, unknown>;
  delete meta.timestamp;
  delete meta.component;
  options.logger?.log(String(level), String(message), meta);
}

/** The worker's side: the elector of leader.ts, reporting to the main thread through `port`. */
async function runThread(data: ThreadData, port: MessagePort): Promise<void> {
  const post = (message: FromThread): void => {
    port.postMessage(message);
  };
  const kube = kubeFromPortable(data.kube);
  const unsubscribe = kube.onRequest((record) => {
    post({ type: 'request', record });
  });
  const stop = new AbortController();
  let lastAlive = Date.now();
  port.on('message', (message: ToThread) => {
    if (message.type === 'alive') lastAlive = Date.now();
    else stop.abort(new Error('stopping'));
  });
  const lines = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line !== '') post({ type: 'log', line });
      done();
    },
  });
  const elector = createLeaderElector({
    kube,
    ...data.lease,
    logger: createLogger({ component: 'leader-thread', stream: lines }),
    onLeading: (leading) => {
      post({ type: 'leading', leading });
    },
    onRenewed: (sincePreviousMs) => {
      post({ type: 'renewed', sincePreviousMs });
    },
    withholdRenewal: () => {
      const silentMs = Date.now() - lastAlive;
      return silentMs > data.stallLimitMs
        ? `the main thread has not answered for ${(silentMs / 1000).toFixed(1)} s (limit ${(data.stallLimitMs / 1000).toFixed(0)} s)`
        : undefined;
    },
  });
  const end = await elector.run(
    stop.signal,
    (leading) =>
      new Promise<void>((resolve) => {
        leading.addEventListener('abort', () => {
          resolve();
        });
      }),
  );
  unsubscribe();
  kube.close();
  post({ type: 'ended', end });
  port.close();
}

if (!isMainThread && parentPort && (workerData as Partial<ThreadData> | undefined)?.role === ROLE) {
  void runThread(workerData as ThreadData, parentPort);
}
