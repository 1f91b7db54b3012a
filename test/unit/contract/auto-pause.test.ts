import { pauseRuleMet, pauseRuleText } from '../../../src/contract/auto-pause';
import { DefinitionsError, parseDefinitions } from '../../../src/definitions';

describe('the pauseAfter rule', () => {
  it('consecutive: met only when the newest N windows all failed', () => {
    expect(pauseRuleMet({ consecutive: 3 }, [true, true, true, false])).toBe(true);
    expect(pauseRuleMet({ consecutive: 3 }, [true, false, true, true])).toBe(false);
    expect(pauseRuleMet({ consecutive: 3 }, [true, true])).toBe(false);
  });

  it('failures of: met when N of the newest M windows failed, whatever their order', () => {
    expect(pauseRuleMet({ failures: 2, of: 4 }, [false, true, false, true, true])).toBe(true);
    expect(pauseRuleMet({ failures: 2, of: 3 }, [false, true, false, true])).toBe(false);
    expect(pauseRuleText({ failures: 10, of: 50 })).toBe('pauseAfter: 10 failed of the last 50 windows');
  });

  it('is refused in a definitions file when malformed, larger than its window count, or without a schedule', () => {
    const file = (rule: string, schedule = "\n    schedule: { cron: '0 * * * *' }") =>
      `exports:\n  - name: x\n    kind: operational\n    request: { operationalDataTypes: [ACCOUNTS] }\n    window: hour${schedule}\n    pauseAfter: ${rule}`;
    const problems = (text: string) => {
      try {
        parseDefinitions(text, {});
        return [];
      } catch (e) {
        expect(e).toBeInstanceOf(DefinitionsError);
        return (e as DefinitionsError).problems;
      }
    };
    expect(parseDefinitions(file('{ failures: 10, of: 50 }'), {}).exports[0].pauseAfter).toEqual({
      failures: 10,
      of: 50,
    });
    expect(problems(file('{ failures: 5, of: 3 }'))).toEqual([
      'exports[0] (x).pauseAfter.failures: must be at most `of`',
    ]);
    expect(problems(file('{ consecutive: 0 }'))).toEqual([
      'exports[0] (x).pauseAfter.consecutive: must be >= 1',
    ]);
    expect(problems(file('{ every: 3 }'))).toHaveLength(1);
    expect(problems(file('{ consecutive: 3 }', ''))).toEqual([
      'exports[0] (x).pauseAfter: pauses a schedule: needs a schedule block',
    ]);
  });
});
