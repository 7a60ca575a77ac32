import { describe, expect, it } from '@jest/globals';
import { agentServiceAccount } from './index.js';

describe('agentServiceAccount', () => {
  it('is named after the whole MemberCluster uid, within a DNS label', () => {
    const name = agentServiceAccount('0f8fad5b-d9cb-469f-a165-70867728950e');
    expect(name).toBe('flotilla-agent-0f8fad5b-d9cb-469f-a165-70867728950e');
    expect(name.length).toBeLessThanOrEqual(63);
  });

  it.each([
    ['empty', ''],
    ['not a UUID', 'uid-1'],
    ['upper case', '0F8FAD5B-D9CB-469F-A165-70867728950E'],
    ['a UUID with more after it', '0f8fad5b-d9cb-469f-a165-70867728950e/x'],
  ])('refuses a uid that is %s, naming it', (_what, uid) => {
    expect(() => agentServiceAccount(uid)).toThrow(
      `a MemberCluster uid must be a lowercase UUID to name its agent's ServiceAccount, not "${uid}"`,
    );
  });
});
