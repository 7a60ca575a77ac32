import { describe, expect, it } from '@jest/globals';
import { group, plurals } from '../api/index.js';
import { allows } from '../hub/permissions.js';
import { dashboardRules } from './permissions.js';
import { watchedTypes } from './read-model.js';

describe('the dashboard permissions table', () => {
  const watched = Object.values(watchedTypes).map((type) => plurals[type.kind]);

  it.each(watched)('lets the dashboard list and watch every %s its read-model watches', (resource) => {
    expect([allows(dashboardRules, group, resource, 'list'), allows(dashboardRules, group, resource, 'watch')]).toEqual([true, true]);
  });

  it('grants nothing else: only list and watch, only of the watched kinds (viewers are checked with their own tokens)', () => {
    expect(
      dashboardRules.filter((rule) => rule.apiGroup !== group || !watched.includes(rule.resource as (typeof watched)[number])),
    ).toEqual([]);
    expect(dashboardRules.flatMap((rule) => rule.verbs.filter((verb) => verb !== 'list' && verb !== 'watch'))).toEqual([]);
    expect(dashboardRules.filter((rule) => rule.resourceNames !== undefined)).toEqual([]);
  });
});
