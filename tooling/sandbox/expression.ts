/**
 * A small expression language for notification calculations (docs/m3ter-api.md, Notification
 * calculations): field references
 * (`new.amount`), numbers, strings, booleans, null, comparisons, arithmetic, AND/OR/NOT (also
 * and/or/not, &&/||/!) and parentheses. Not m3ter's full language: enough to check calculations
 * like `(new.x >= new.y*0.9) AND (old.x == null)`.
 */
export type Value = number | string | boolean | null | unknown[] | Record<string, unknown>;

export type Node =
  | { kind: 'lit'; value: number | string | boolean | null }
  | { kind: 'ref'; path: string }
  | { kind: 'not'; operand: Node }
  | { kind: 'neg'; operand: Node }
  | { kind: 'bin'; op: string; left: Node; right: Node };

export class ExpressionError extends Error {}

interface Token {
  type: 'num' | 'str' | 'ident' | 'op' | 'eof';
  text: string;
  pos: number;
}

const OPS = ['==', '!=', '<=', '>=', '&&', '||', '<', '>', '+', '-', '*', '/', '(', ')', '!'];

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(src[i + 1] ?? ''))) {
      const m = /^[0-9]*\.?[0-9]+([eE][+-]?[0-9]+)?/.exec(src.slice(i));
      out.push({ type: 'num', text: m![0], pos: i });
      i += m![0].length;
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      let s = '';
      while (j < src.length && src[j] !== c) {
        if (src[j] === '\\' && j + 1 < src.length) j++;
        s += src[j++];
      }
      if (j >= src.length) throw new ExpressionError(`Unterminated string starting at position ${i + 1}`);
      out.push({ type: 'str', text: s, pos: i });
      i = j + 1;
      continue;
    }
    if (/[A-Za-z_$]/.test(c)) {
      const m = /^[A-Za-z_$][A-Za-z0-9_$]*(\.[A-Za-z_$][A-Za-z0-9_$]*)*/.exec(src.slice(i));
      out.push({ type: 'ident', text: m![0], pos: i });
      i += m![0].length;
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (op === undefined) throw new ExpressionError(`Unexpected character '${c}' at position ${i + 1}`);
    out.push({ type: 'op', text: op, pos: i });
    i += op.length;
  }
  out.push({ type: 'eof', text: '', pos: src.length });
  return out;
}

export function parseExpression(src: string): Node {
  const tokens = tokenize(src);
  let p = 0;
  const peek = (): Token => tokens[p];
  const isWord = (t: Token, w: string): boolean => t.type === 'ident' && t.text.toUpperCase() === w;
  const isOp = (t: Token, o: string): boolean => t.type === 'op' && t.text === o;
  const describe = (t: Token): string =>
    t.type === 'eof' ? 'end of expression' : `'${t.text}' at position ${t.pos + 1}`;

  const parseOr = (): Node => {
    let left = parseAnd();
    while (isWord(peek(), 'OR') || isOp(peek(), '||')) {
      p++;
      left = { kind: 'bin', op: 'OR', left, right: parseAnd() };
    }
    return left;
  };
  const parseAnd = (): Node => {
    let left = parseNot();
    while (isWord(peek(), 'AND') || isOp(peek(), '&&')) {
      p++;
      left = { kind: 'bin', op: 'AND', left, right: parseNot() };
    }
    return left;
  };
  const parseNot = (): Node => {
    if (isWord(peek(), 'NOT') || isOp(peek(), '!')) {
      p++;
      return { kind: 'not', operand: parseNot() };
    }
    return parseCmp();
  };
  const parseCmp = (): Node => {
    const left = parseAdd();
    const t = peek();
    if (t.type === 'op' && ['==', '!=', '<', '<=', '>', '>='].includes(t.text)) {
      p++;
      return { kind: 'bin', op: t.text, left, right: parseAdd() };
    }
    return left;
  };
  const parseAdd = (): Node => {
    let left = parseMul();
    while (isOp(peek(), '+') || isOp(peek(), '-')) {
      const op = tokens[p++].text;
      left = { kind: 'bin', op, left, right: parseMul() };
    }
    return left;
  };
  const parseMul = (): Node => {
    let left = parseUnary();
    while (isOp(peek(), '*') || isOp(peek(), '/')) {
      const op = tokens[p++].text;
      left = { kind: 'bin', op, left, right: parseUnary() };
    }
    return left;
  };
  const parseUnary = (): Node => {
    if (isOp(peek(), '-')) {
      p++;
      return { kind: 'neg', operand: parseUnary() };
    }
    return parsePrimary();
  };
  const parsePrimary = (): Node => {
    const t = tokens[p];
    if (t.type === 'num') {
      p++;
      return { kind: 'lit', value: Number(t.text) };
    }
    if (t.type === 'str') {
      p++;
      return { kind: 'lit', value: t.text };
    }
    if (t.type === 'ident') {
      const upper = t.text.toUpperCase();
      if (upper === 'TRUE' || upper === 'FALSE') {
        p++;
        return { kind: 'lit', value: upper === 'TRUE' };
      }
      if (upper === 'NULL') {
        p++;
        return { kind: 'lit', value: null };
      }
      if (['AND', 'OR', 'NOT'].includes(upper)) throw new ExpressionError(`Unexpected ${describe(t)}`);
      p++;
      return { kind: 'ref', path: t.text };
    }
    if (isOp(t, '(')) {
      p++;
      const inner = parseOr();
      if (!isOp(peek(), ')')) throw new ExpressionError(`Expected ')' but found ${describe(peek())}`);
      p++;
      return inner;
    }
    throw new ExpressionError(`Unexpected ${describe(t)}`);
  };

  if (tokens.length === 1) throw new ExpressionError('Calculation is empty');
  const node = parseOr();
  if (peek().type !== 'eof') throw new ExpressionError(`Unexpected ${describe(peek())}`);
  return node;
}

export function fieldRefs(node: Node, out: string[] = []): string[] {
  switch (node.kind) {
    case 'ref':
      out.push(node.path);
      break;
    case 'not':
    case 'neg':
      fieldRefs(node.operand, out);
      break;
    case 'bin':
      fieldRefs(node.left, out);
      fieldRefs(node.right, out);
      break;
    case 'lit':
      break;
  }
  return out;
}

/** Resolves a dotted path; `undefined` means the field does not exist (a null-valued field exists). */
export function resolvePath(data: Record<string, unknown>, path: string): Value | undefined {
  let cur: unknown = data;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur) || !(part in (cur as object)))
      return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur as Value;
}

const typeName = (v: Value): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

export function evaluate(node: Node, data: Record<string, unknown>): Value {
  switch (node.kind) {
    case 'lit':
      return node.value;
    case 'ref': {
      const v = resolvePath(data, node.path);
      if (v === undefined) throw new ExpressionError(`Unknown field '${node.path}'`);
      return v;
    }
    case 'not': {
      const v = evaluate(node.operand, data);
      if (typeof v !== 'boolean') throw new ExpressionError(`NOT needs a boolean, got ${typeName(v)}`);
      return !v;
    }
    case 'neg': {
      const v = evaluate(node.operand, data);
      if (typeof v !== 'number') throw new ExpressionError(`'-' needs a number, got ${typeName(v)}`);
      return -v;
    }
    case 'bin':
      return binary(node.op, node.left, node.right, data);
  }
}

function binary(op: string, l: Node, r: Node, data: Record<string, unknown>): Value {
  if (op === 'AND' || op === 'OR') {
    const a = evaluate(l, data);
    if (typeof a !== 'boolean') throw new ExpressionError(`${op} needs booleans, got ${typeName(a)}`);
    if (op === 'AND' && !a) return false;
    if (op === 'OR' && a) return true;
    const b = evaluate(r, data);
    if (typeof b !== 'boolean') throw new ExpressionError(`${op} needs booleans, got ${typeName(b)}`);
    return b;
  }
  const a = evaluate(l, data);
  const b = evaluate(r, data);
  switch (op) {
    case '==':
      return JSON.stringify(a) === JSON.stringify(b);
    case '!=':
      return JSON.stringify(a) !== JSON.stringify(b);
    case '<':
    case '<=':
    case '>':
    case '>=': {
      // Ordering with null is false (like SQL), not an error: `old.x > 1` on a created entity.
      if (a === null || b === null) return false;
      if (!(
        (typeof a === 'number' && typeof b === 'number') ||
        (typeof a === 'string' && typeof b === 'string')
      )) {
        throw new ExpressionError(`Cannot compare ${typeName(a)} with ${typeName(b)} using '${op}'`);
      }
      return op === '<' ? a < b : op === '<=' ? a <= b : op === '>' ? a > b : a >= b;
    }
    case '+':
      if (typeof a === 'string' && typeof b === 'string') return a + b;
      return arithmetic(op, a, b);
    case '-':
    case '*':
    case '/':
      return arithmetic(op, a, b);
  }
  throw new ExpressionError(`Unknown operator '${op}'`);
}

function arithmetic(op: string, a: Value, b: Value): number {
  if (typeof a !== 'number' || typeof b !== 'number')
    throw new ExpressionError(`'${op}' needs numbers, got ${typeName(a)} and ${typeName(b)}`);
  if (op === '/' && b === 0) throw new ExpressionError('Division by zero');
  return op === '+' ? a + b : op === '-' ? a - b : op === '*' ? a * b : a / b;
}

/**
 * ASSUMPTION (docs/m3ter-api.md, Assumptions): success = the calculation is valid AND evaluates to
 * true. Parse errors, unknown fields, type errors and non-boolean results give success:false with
 * an errorMessage; a valid calculation that evaluates to false gives success:false, errorMessage null.
 */
export function checkCalculation(
  calculation: string,
  data: Record<string, unknown>,
): { success: boolean; errorMessage: string | null } {
  try {
    const node = parseExpression(calculation);
    // Every referenced field must exist, even in a branch that short-circuiting would skip.
    for (const ref of fieldRefs(node))
      if (resolvePath(data, ref) === undefined) throw new ExpressionError(`Unknown field '${ref}'`);
    const result = evaluate(node, data);
    if (typeof result !== 'boolean')
      return {
        success: false,
        errorMessage: `Calculation must evaluate to a boolean, got ${typeName(result)}`,
      };
    return { success: result, errorMessage: null };
  } catch (err) {
    if (err instanceof ExpressionError) return { success: false, errorMessage: err.message };
    throw err;
  }
}
