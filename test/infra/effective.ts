/**
 * What CloudFormation would create from a packaged template: Conditions evaluated, `Fn::If` replaced
 * by its chosen branch, `AWS::NoValue` removed, and resources/outputs whose Condition is false
 * dropped. Tests assert on this, so a value hidden in a conditional branch is still checked (the spec
 * check skips intrinsics). Only the condition functions whose arguments are literals after
 * packaging are supported (ours compare resolved params); anything else throws, so a condition that
 * depends on deploy-time values cannot be silently guessed.
 */

// biome-ignore lint/suspicious/noExplicitAny: CloudFormation JSON is untyped; the tests read it by path.
type Json = any;

export interface CfnTemplate {
  Resources: Record<string, Json>;
  Outputs?: Record<string, Json>;
  Conditions?: Record<string, Json>;
}

const NO_VALUE = Symbol('AWS::NoValue');

/** Evaluates every entry of `template.Conditions` (Fn::Equals / Not / And / Or / Condition on literals). */
export function evaluateConditions(template: CfnTemplate): Record<string, boolean> {
  const defs = template.Conditions ?? {};
  const out: Record<string, boolean> = {};
  const evalCond = (name: string, seen: string[]): boolean => {
    if (name in out) return out[name] as boolean;
    if (seen.includes(name)) throw new Error(`condition cycle: ${[...seen, name].join(' -> ')}`);
    if (!(name in defs)) throw new Error(`unknown condition ${name}`);
    const v = evalExpr(defs[name], [...seen, name]);
    out[name] = v;
    return v;
  };
  const literal = (x: Json): string => {
    if (typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean') return String(x);
    throw new Error(`condition argument is not a literal after packaging: ${JSON.stringify(x)}`);
  };
  const evalExpr = (e: Json, seen: string[]): boolean => {
    const [fn] = Object.keys(e ?? {});
    const args = fn ? e[fn] : undefined;
    switch (fn) {
      case 'Fn::Equals':
        return literal(args[0]) === literal(args[1]);
      case 'Fn::Not':
        return !evalExpr(args[0], seen);
      case 'Fn::And':
        return (args as Json[]).every((a) => evalExpr(a, seen));
      case 'Fn::Or':
        return (args as Json[]).some((a) => evalExpr(a, seen));
      case 'Condition':
        return evalCond(args as string, seen);
      default:
        throw new Error(`unsupported condition expression ${JSON.stringify(e)}`);
    }
  };
  for (const name of Object.keys(defs)) evalCond(name, []);
  return out;
}

/** The template as deployed with its own parameters: see the module comment. */
export function effectiveTemplate<T extends CfnTemplate>(template: T): T {
  const conditions = evaluateConditions(template);
  const is = (name: string): boolean => {
    if (!(name in conditions)) throw new Error(`Fn::If names unknown condition ${name}`);
    return conditions[name] as boolean;
  };
  const walk = (v: Json): Json => {
    if (Array.isArray(v)) return v.map(walk).filter((x) => x !== NO_VALUE);
    if (v === null || typeof v !== 'object') return v;
    const keys = Object.keys(v);
    if (keys.length === 1 && keys[0] === 'Ref' && v.Ref === 'AWS::NoValue') return NO_VALUE;
    if (keys.length === 1 && keys[0] === 'Fn::If') {
      const [cond, yes, no] = v['Fn::If'] as [string, Json, Json];
      return walk(is(cond) ? yes : no);
    }
    const out: Record<string, Json> = {};
    for (const k of keys) {
      const w = walk(v[k]);
      if (w !== NO_VALUE) out[k] = w;
    }
    return out;
  };
  const keep = (section: Record<string, Json> | undefined) =>
    Object.fromEntries(
      Object.entries(section ?? {})
        .filter(([, r]) => !r.Condition || is(r.Condition))
        .map(([id, r]) => [id, walk(r)]),
    );
  return { ...template, Resources: keep(template.Resources), Outputs: keep(template.Outputs) };
}
