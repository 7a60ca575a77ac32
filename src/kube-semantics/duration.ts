// Durations as Kubernetes and flotilla's schemas write them (Go's time.ParseDuration syntax), so a
// value means the same in a Fleet, a rollout and on the command line.

/** Parses a Go duration (`90s`, `1h30m`, `1.5m`) into milliseconds; undefined when malformed. */
export function parseDuration(text: string): number | undefined {
  const unit: Record<string, number> = { ns: 1e-6, us: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const part = /(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)/y;
  let total = 0;
  let index = 0;
  while (index < text.length) {
    part.lastIndex = index;
    const match = part.exec(text);
    if (!match) return undefined;
    total += Number(match[1]) * (unit[match[2] ?? ''] ?? 0);
    index = part.lastIndex;
  }
  return text === '' ? undefined : total;
}
