import { checkCalculation, parseExpression } from '../../../../tooling/sandbox/expression';

const data = {
  new: { amount: 120, limit: 100, name: 'acme', active: true, gone: null },
  old: { amount: 80 },
  jobId: 'j1',
};

describe('sandbox expression language', () => {
  it.each([
    ['new.amount > new.limit', true],
    ['new.amount >= new.limit * 1.2', true],
    ['new.amount >= new.limit * 1.21', false],
    ['(new.amount - old.amount) / 2 == 20', true],
    ['-new.amount < 0', true],
    ['new.name == "acme" AND new.active', true],
    ["new.name != 'acme' or not new.active", false],
    ['!new.active || new.gone == null', true],
    ['new.gone > 1', false],
    ['true && false || true', true],
    ['NOT (1 < 2)', false],
    ['"a" < "b"', true],
    ['"ab" + "c" == "abc"', true],
    ['1.5e1 == 15', true],
    ['jobId == "j1"', true],
  ])('%s → %s', (calc, expected) => {
    expect(checkCalculation(calc, data)).toEqual({ success: expected, errorMessage: null });
  });

  it.each([
    ['new.amount >', /Unexpected end/],
    ['(new.amount > 1', /Expected '\)'/],
    ['new.amount > 1)', /Unexpected '\)'/],
    ['new.nope == 1', /Unknown field 'new.nope'/],
    ['false AND new.nope', /Unknown field/],
    ['new.amount + 1', /must evaluate to a boolean/],
    ['new.name > 1', /Cannot compare/],
    ['new.amount / 0 == 1', /Division by zero/],
    ['new.active AND 1', /AND needs booleans/],
    ['"open', /Unterminated string/],
    ['a # b', /Unexpected character/],
    ['   ', /empty/],
    ['AND', /Unexpected/],
  ])('%s is an error', (calc, message) => {
    const r = checkCalculation(calc, data);
    expect(r.success).toBe(false);
    expect(r.errorMessage).toMatch(message);
  });

  it('binds AND tighter than OR and comparisons tighter than AND', () => {
    expect(parseExpression('a == 1 OR b == 2 AND c == 3')).toMatchObject({
      kind: 'bin',
      op: 'OR',
      right: { op: 'AND' },
    });
  });
});
