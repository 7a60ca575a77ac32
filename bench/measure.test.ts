import { parseMetrics, quantileBetween, sumOf } from './measure.js';

const scrape = (buckets: Record<string, number>, extra = ''): string =>
  [
    '# HELP apiserver_request_duration_seconds latency',
    ...Object.entries(buckets).map(([le, n]) => `apiserver_request_duration_seconds_bucket{verb="PUT",le="${le}"} ${n}`),
    'apiserver_request_duration_seconds_bucket{verb="GET",le="+Inf"} 500',
    extra,
  ].join('\n');

describe('parseMetrics and sumOf', () => {
  it('sums the series whose labels match, skipping comments', () => {
    const samples = parseMetrics(
      [
        '# TYPE apiserver_request_total counter',
        'apiserver_request_total{code="200",verb="PUT"} 10',
        'apiserver_request_total{code="429",verb="PUT"} 2',
        'apiserver_request_total{code="429",verb="LIST"} 3',
        'process_cpu_seconds_total 1.5',
      ].join('\n'),
    );
    expect(sumOf(samples, 'apiserver_request_total', { code: ['429'] })).toBe(5);
    expect(sumOf(samples, 'apiserver_request_total', { code: ['429'], verb: ['PUT', 'POST'] })).toBe(2);
    expect(sumOf(samples, 'process_cpu_seconds_total')).toBe(1.5);
  });
});

describe('quantileBetween', () => {
  const before = parseMetrics(scrape({ '0.1': 10, '0.5': 10, '1': 10, '+Inf': 10 }));
  it.each([
    ['falls in the first bucket', { '0.1': 110, '0.5': 110, '1': 110, '+Inf': 110 }, 0.99, 0.099],
    ['interpolates within a later bucket', { '0.1': 60, '0.5': 110, '1': 110, '+Inf': 110 }, 0.99, 0.1 + 0.4 * (49 / 50)],
    ['answers the last finite bound for the +Inf bucket', { '0.1': 10, '0.5': 10, '1': 10, '+Inf': 20 }, 0.99, 1],
  ])('%s', (_name, after, q, expected) => {
    expect(quantileBetween(before, parseMetrics(scrape(after)), 'apiserver_request_duration_seconds', { verb: ['PUT'] }, q)).toBeCloseTo(
      expected,
      6,
    );
  });
  it('leaves out the series matching every entry of except', () => {
    const status = (n: number): string => `apiserver_request_duration_seconds_bucket{verb="PUT",subresource="status",le="+Inf"} ${n}`;
    const withStatus = (buckets: Record<string, number>, n: number) => parseMetrics(scrape(buckets, status(n)));
    const start = withStatus({ '0.1': 10, '0.5': 10, '1': 10, '+Inf': 10 }, 0);
    const end = withStatus({ '0.1': 110, '0.5': 110, '1': 110, '+Inf': 110 }, 100);
    const p99 = (except?: Record<string, string[]>) =>
      quantileBetween(start, end, 'apiserver_request_duration_seconds', { verb: ['PUT'] }, 0.99, except);
    expect(p99()).toBe(1);
    expect(p99({ subresource: ['status'] })).toBeCloseTo(0.099, 6);
  });
  it('is undefined when nothing was observed in between', () => {
    expect(quantileBetween(before, before, 'apiserver_request_duration_seconds', { verb: ['PUT'] }, 0.99)).toBeUndefined();
  });
});
