// Structured JSON logs (winston): a message that reads as a sentence plus fields such as
// controller, kind, namespace, name, cluster, reconcileID. A format strips what must never reach a
// log — fields that look like credentials, and whole Kubernetes objects — whoever passed them.
import winston from 'winston';

export type Logger = winston.Logger;

const SECRET_FIELD = /(token|password|secret|credential|authorization|private.?key|kubeconfig)/i;

/** Removes secret-looking fields and replaces whole objects (anything with apiVersion+metadata) by their key. */
export function redact(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (SECRET_FIELD.test(key)) {
      out[key] = '[redacted]';
    } else if (isKubeObject(value)) {
      const meta = value.metadata as { name?: string; namespace?: string };
      out[key] = `${value.kind as string} ${meta.namespace ? `${meta.namespace}/` : ''}${meta.name ?? ''}`;
    } else {
      out[key] = value;
    }
  }
  return out;
}

function isKubeObject(value: unknown): value is Record<string, unknown> & { metadata: object; kind: unknown } {
  return (
    typeof value === 'object' &&
    value !== null &&
    'metadata' in value &&
    'kind' in value &&
    typeof (value as { metadata: unknown }).metadata === 'object'
  );
}

const redactFormat = winston.format((info) => {
  const cleaned = redact(info);
  for (const key of Object.keys(info)) {
    (info as Record<string, unknown>)[key] = cleaned[key];
  }
  return info;
});

export interface LoggerOptions {
  /** e.g. `flotilla-hub`; every line carries it. */
  component: string;
  level?: string;
  /** Where lines go (default stdout); tests pass a stream to read them back. */
  stream?: NodeJS.WritableStream;
}

export function createLogger(options: LoggerOptions): Logger {
  return winston.createLogger({
    level: options.level ?? process.env.FLOTILLA_LOG_LEVEL ?? 'info',
    defaultMeta: { component: options.component },
    format: winston.format.combine(redactFormat(), winston.format.timestamp(), winston.format.json()),
    transports: [options.stream ? new winston.transports.Stream({ stream: options.stream }) : new winston.transports.Console()],
  });
}

/** A logger that drops everything: the default where none is given. */
export function silentLogger(): Logger {
  return winston.createLogger({ silent: true, transports: [new winston.transports.Console({ silent: true })] });
}

/** What to say of a caught value: an Error's message, anything else as text. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
