// Resource quantities compared by value, because the apiserver rewrites them into canonical form
// (`0.5` → `500m`, `1024Mi` → `1Gi`). client-node's quantityToScalar is not used: it throws on
// fractional binary quantities (`1.5Gi`) and goes through floating point, so equal values can
// compare unequal; this parser is exact (bigint rationals).

/** An exact value: numerator / denominator, denominator > 0. */
export interface Rational {
  numerator: bigint;
  denominator: bigint;
}

const QUANTITY = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(?:[eE]([+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E))?$/;
// Far beyond any real quantity; bounds the bigint work an absurd exponent could cause.
const MAX_EXPONENT = 64;

const SUFFIX_SCALE: Record<string, { base: bigint; power: number }> = {
  n: { base: 10n, power: -9 },
  u: { base: 10n, power: -6 },
  m: { base: 10n, power: -3 },
  k: { base: 10n, power: 3 },
  M: { base: 10n, power: 6 },
  G: { base: 10n, power: 9 },
  T: { base: 10n, power: 12 },
  P: { base: 10n, power: 15 },
  E: { base: 10n, power: 18 },
  Ki: { base: 2n, power: 10 },
  Mi: { base: 2n, power: 20 },
  Gi: { base: 2n, power: 30 },
  Ti: { base: 2n, power: 40 },
  Pi: { base: 2n, power: 50 },
  Ei: { base: 2n, power: 60 },
};

function scale(value: Rational, base: bigint, power: number): Rational {
  return power >= 0
    ? { numerator: value.numerator * base ** BigInt(power), denominator: value.denominator }
    : { numerator: value.numerator, denominator: value.denominator * base ** BigInt(-power) };
}

/** The exact value of a Kubernetes quantity (a string like `1.5Gi` or a JSON number), or undefined. */
export function parseQuantity(quantity: unknown): Rational | undefined {
  const text = typeof quantity === 'number' && Number.isFinite(quantity) ? String(quantity) : quantity;
  if (typeof text !== 'string') return undefined;
  const match = QUANTITY.exec(text);
  if (!match) return undefined;
  const [, sign = '', digits = '', exponent, suffix] = match;
  const [whole = '', fraction = ''] = digits.split('.');
  let value = scale({ numerator: BigInt(`${sign}${whole}${fraction}` || '0'), denominator: 1n }, 10n, -fraction.length);
  if (exponent !== undefined) {
    const power = Number(exponent);
    if (Math.abs(power) > MAX_EXPONENT) return undefined;
    value = scale(value, 10n, power);
  }
  const suffixScale = suffix === undefined ? undefined : SUFFIX_SCALE[suffix];
  return suffixScale ? scale(value, suffixScale.base, suffixScale.power) : value;
}

/** True when both are quantities of the same value, however each is written. */
export function quantitiesEqual(a: unknown, b: unknown): boolean {
  const left = parseQuantity(a);
  const right = parseQuantity(b);
  return left !== undefined && right !== undefined && left.numerator * right.denominator === right.numerator * left.denominator;
}

export const ZERO: Rational = { numerator: 0n, denominator: 1n };

/** a + b, exactly. */
export function addRationals(a: Rational, b: Rational): Rational {
  return { numerator: a.numerator * b.denominator + b.numerator * a.denominator, denominator: a.denominator * b.denominator };
}

/** The larger of a and b. */
export function maxRational(a: Rational, b: Rational): Rational {
  return a.numerator * b.denominator >= b.numerator * a.denominator ? a : b;
}

/** The exact sum of quantities; entries that are not quantities count as zero. */
export function sumQuantities(quantities: Iterable<unknown>): Rational {
  let sum = ZERO;
  for (const quantity of quantities) sum = addRationals(sum, parseQuantity(quantity) ?? ZERO);
  return sum;
}

const NANO = 1_000_000_000n;
const BINARY_SUFFIXES: [string, bigint][] = [
  ['Ei', 2n ** 60n],
  ['Pi', 2n ** 50n],
  ['Ti', 2n ** 40n],
  ['Gi', 2n ** 30n],
  ['Mi', 2n ** 20n],
  ['Ki', 2n ** 10n],
];

/**
 * A quantity string for an exact value, as Kubernetes writes them: whole numbers plain (memory
 * with the largest binary suffix that divides it exactly, e.g. `62Gi`), fractions in `m`, `u` or
 * `n`; values finer than a nano unit are rounded up, as the apiserver does.
 */
export function formatQuantity(value: Rational, format: 'DecimalSI' | 'BinarySI'): string {
  const scaled = value.numerator * NANO;
  // Ceiling division that also holds for negative values.
  const nanos = scaled / value.denominator + (scaled % value.denominator > 0n ? 1n : 0n);
  if (nanos % NANO === 0n) {
    const whole = nanos / NANO;
    if (format === 'BinarySI' && whole !== 0n) {
      for (const [suffix, size] of BINARY_SUFFIXES) if (whole % size === 0n) return `${whole / size}${suffix}`;
    }
    return whole.toString();
  }
  if (nanos % 1_000_000n === 0n) return `${nanos / 1_000_000n}m`;
  if (nanos % 1_000n === 0n) return `${nanos / 1_000n}u`;
  return `${nanos}n`;
}
