// The flotilla programs as real child processes of the built program (dist/flotilla.mjs, built by
// `make build`), started the way an operator starts them and always stopped by the suite.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { programCommand, type CommandResult } from '../framework/index.js';

export interface Program {
  name: string;
  child: ChildProcess;
  logFile: string;
  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. Resolves once it exited. */
  stop(graceMs?: number): Promise<void>;
}

const logDir = join(tmpdir(), 'flotilla-membership-e2e');
const running = new Set<Program>();

/**
 * Starts `flotilla ARGS...` in the background (with `env` added, and `nodeArgs` such as --cpu-prof
 * that NODE_OPTIONS refuses); its output goes to a log file named after it.
 */
export function startProgram(name: string, args: string[], options: { env?: Record<string, string>; nodeArgs?: string[] } = {}): Program {
  mkdirSync(logDir, { recursive: true });
  const logFile = join(logDir, `${name}.log`);
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(...programCommand(args, options.nodeArgs), {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...options.env },
  });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  // 'close', not 'exit': only once the child's output is drained may its log be ended.
  const exited = new Promise<void>((resolve) =>
    child.once('close', () => {
      resolve();
    }),
  );
  const program: Program = {
    name,
    child,
    logFile,
    async stop(graceMs = 10_000) {
      running.delete(program);
      const timer =
        child.exitCode === null && child.signalCode === null
          ? (child.kill('SIGTERM'), setTimeout(() => child.kill('SIGKILL'), graceMs))
          : undefined;
      // Also for a program that exited on its own: its output may still be on the way to the log.
      await exited;
      clearTimeout(timer);
      log.end();
    },
  };
  running.add(program);
  return program;
}

/** Stops every program still running (afterAll, whatever happened). */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((p) => p.stop()));
}

/**
 * Runs `flotilla ARGS...` to completion. One still running after `killAfterMs` (default: never) is
 * killed and answers `stillRunning`, so a test of a process that must exit reports one that lingers.
 */
export function runFlotilla(args: string[], options: { killAfterMs?: number } = {}): Promise<CommandResult & { stillRunning: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(...programCommand(args), { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let stillRunning = false;
    const timer =
      options.killAfterMs === undefined
        ? undefined
        : setTimeout(() => {
            stillRunning = true;
            child.kill('SIGKILL');
          }, options.killAfterMs);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr, stillRunning });
    });
  });
}
