// Routing rules at alert time: which channels a failure reaches given m3ter's answers, and the fallback
// (the export's channels without a rule, never nobody) when m3ter cannot answer.
import { applyRules, type Evaluate } from '../../../src/alerts/rules';
import type { AlertRouting } from '../../../src/contract/alert-routing';

const routing: AlertRouting = {
  channels: [
    { name: 'plain', type: 'webhook', url: '${A}', secret: '${S}' },
    { name: 'usage', type: 'webhook', url: '${B}', secret: '${S}', when: "sourceType == 'USAGE'" },
    { name: 'ops', type: 'webhook', url: '${C}', secret: '${S}', when: "sourceType == 'OPERATIONAL'" },
  ],
};
const answers =
  (truthy: string): Evaluate =>
  async (req) => ({ success: req.calculation.includes(truthy), errorMessage: null });
const names = (r: AlertRouting) => r.channels.map((c) => c.name);

describe('applyRules', () => {
  it('keeps the plain channels and those whose rule m3ter evaluates true for the event', async () => {
    const r = await applyRules(routing, 'ev-1', answers('OPERATIONAL'));
    expect(names(r.routing)).toEqual(['plain', 'ops']);
    expect(r.note).toBeUndefined();
  });

  it('falls back to the channels without a rule, with a note, when m3ter cannot be asked', async () => {
    const down: Evaluate = () => Promise.reject(new Error('M3terUnavailable: 503'));
    const r = await applyRules(routing, 'ev-1', down);
    expect(names(r.routing)).toEqual(['plain']);
    expect(r.note).toContain('m3ter could not be asked: M3terUnavailable: 503');
  });

  it('falls back when there is no event to evaluate against, or m3ter reports an error', async () => {
    expect((await applyRules(routing, undefined, answers('x'))).note).toContain(
      'no DataExportJobFailure event',
    );
    const refused: Evaluate = async () => ({ success: false, errorMessage: "Unknown field 'new.x'" });
    const r = await applyRules({ channels: routing.channels.slice(1) }, 'ev-1', refused);
    expect(r.routing.channels).toEqual([]);
    expect(r.note).toContain('(none: the default channel)');
  });
});
