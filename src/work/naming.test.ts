import { describe, expect, it } from '@jest/globals';
import { labels } from '../api/index.js';
import { sourceWorkName, workPartName, workSetName } from './naming.js';

describe('workPartName', () => {
  it('keeps part 0 as the set name and suffixes the others, within 63 characters', () => {
    expect(workPartName('web', 0)).toBe('web');
    expect(workPartName('web', 2)).toBe('web-part-2');
    const long = 'a'.repeat(60);
    expect(workPartName(long, 12).length).toBeLessThanOrEqual(63);
    expect(workPartName(long, 12)).toMatch(/^a+-[0-9a-f]{8}-part-12$/);
  });
});

describe('sourceWorkName', () => {
  it('prefixes by kind and keeps long names distinct within 63 characters', () => {
    expect(sourceWorkName({ kind: 'GlobalService', name: 'web' })).toBe('gs-web');
    expect(sourceWorkName({ kind: 'PolicyBundle', name: 'web' })).toBe('pb-web');
    const a = sourceWorkName({ kind: 'GlobalService', name: `${'a'.repeat(62)}b` });
    const b = sourceWorkName({ kind: 'GlobalService', name: `${'a'.repeat(62)}c` });
    expect(a.length).toBeLessThanOrEqual(63);
    expect(a).not.toBe(b);
    expect(a).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
  });
});

describe('workSetName', () => {
  it('is the flotilla.dev/work label, or the Work name without it', () => {
    expect(workSetName({ metadata: { name: 'web-part-1', labels: { [labels.work]: 'web' } } })).toBe('web');
    expect(workSetName({ metadata: { name: 'solo' } })).toBe('solo');
  });
});
