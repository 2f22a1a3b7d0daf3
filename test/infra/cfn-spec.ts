/**
 * Checks a CloudFormation template's property names against the CloudFormation resource spec
 * shipped in @aws-cdk/aws-service-spec (db.json.gz), so a misspelled or misplaced property fails
 * here instead of in the middle of a deploy.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

interface PropType {
  type: string;
  reference?: { $ref: string };
  element?: PropType;
  types?: PropType[];
}
interface PropSpec {
  type: PropType;
  required?: boolean;
}
interface ResourceSpec {
  cloudFormationType: string;
  properties: Record<string, PropSpec>;
  attributes?: Record<string, unknown>;
}
interface TypeDefinition {
  $id: string;
  name: string;
  properties: Record<string, PropSpec>;
}
interface Db {
  schema: { resource: { entities: Record<string, ResourceSpec> }; typeDefinition: { entities: Record<string, TypeDefinition> } };
}

export interface Spec {
  resources: Map<string, ResourceSpec>;
  types: Map<string, TypeDefinition>;
}

export function loadSpec(): Spec {
  const db = JSON.parse(gunzipSync(readFileSync(require.resolve('@aws-cdk/aws-service-spec/db.json.gz'))).toString('utf8')) as Db;
  const resources = new Map(Object.values(db.schema.resource.entities).map((r) => [r.cloudFormationType, r]));
  const types = new Map(Object.values(db.schema.typeDefinition.entities).map((t) => [t.$id, t]));
  return { resources, types };
}

const isIntrinsic = (v: unknown): boolean =>
  !!v &&
  typeof v === 'object' &&
  !Array.isArray(v) &&
  Object.keys(v).length === 1 &&
  /^(Ref|Fn::|Condition$)/.test(Object.keys(v)[0] as string);

const RESOURCE_KEYS = new Set([
  'Type',
  'Properties',
  'DependsOn',
  'Condition',
  'DeletionPolicy',
  'UpdateReplacePolicy',
  'UpdatePolicy',
  'CreationPolicy',
  'Metadata',
]);

/** Every problem found, as "Logical.Path: message"; empty when the template matches the spec. */
export function validateTemplate(
  template: { Resources: Record<string, { Type: string; Properties?: Record<string, unknown> } & Record<string, unknown>> },
  spec: Spec,
): string[] {
  const errors: string[] = [];

  // Returns true when `value` fits `t`; records property-name errors found on the way.
  const checkValue = (value: unknown, t: PropType, path: string, record: boolean): boolean => {
    if (value === undefined || value === null || isIntrinsic(value)) return true;
    switch (t.type) {
      case 'ref': {
        const def = spec.types.get(t.reference?.$ref ?? '');
        if (!def) return true;
        if (typeof value !== 'object' || Array.isArray(value)) {
          if (record) errors.push(`${path}: expected an object of type ${def.name}`);
          return false;
        }
        return checkProps(value as Record<string, unknown>, def.properties, path, record);
      }
      case 'array':
        if (!Array.isArray(value)) return true; // scalars for lists are intrinsic-free edge cases CFN reports itself
        return value.map((v, i) => checkValue(v, t.element as PropType, `${path}[${i}]`, record)).every(Boolean);
      case 'map':
        if (typeof value !== 'object' || Array.isArray(value)) return true;
        return Object.entries(value as Record<string, unknown>)
          .map(([k, v]) => checkValue(v, t.element as PropType, `${path}.${k}`, record))
          .every(Boolean);
      case 'union': {
        // Valid if any member type accepts it; report the errors of the first member only when none does.
        if ((t.types ?? []).some((m) => checkValue(value, m, path, false))) return true;
        if (record && t.types?.[0]) checkValue(value, t.types[0], path, true);
        return false;
      }
      default:
        return true;
    }
  };

  const checkProps = (obj: Record<string, unknown>, props: Record<string, PropSpec>, path: string, record: boolean): boolean => {
    let ok = true;
    for (const [k, v] of Object.entries(obj)) {
      const p = props[k];
      if (!p) {
        ok = false;
        if (record) errors.push(`${path}.${k}: unknown property`);
        continue;
      }
      ok = checkValue(v, p.type, `${path}.${k}`, record) && ok;
    }
    for (const [k, p] of Object.entries(props)) {
      if (p.required && !(k in obj)) {
        ok = false;
        if (record) errors.push(`${path}.${k}: required property missing`);
      }
    }
    return ok;
  };

  for (const [id, res] of Object.entries(template.Resources)) {
    for (const k of Object.keys(res)) if (!RESOURCE_KEYS.has(k)) errors.push(`${id}.${k}: unknown resource attribute`);
    // A custom resource (Custom::Name) takes any properties besides the CustomResource ones: check
    // only that those are right (ServiceToken is required).
    if (res.Type.startsWith('Custom::')) {
      const cr = spec.resources.get('AWS::CloudFormation::CustomResource');
      if (cr) {
        const own = Object.fromEntries(Object.entries(res.Properties ?? {}).filter(([k]) => k in cr.properties));
        checkProps(own, cr.properties, id, true);
      }
      continue;
    }
    const rs = spec.resources.get(res.Type);
    if (!rs) {
      errors.push(`${id}: unknown resource type ${res.Type}`);
      continue;
    }
    checkProps(res.Properties ?? {}, rs.properties, id, true);
  }
  return errors;
}

/**
 * Every `Fn::GetAtt` (and every `${Resource.Attribute}` in an `Fn::Sub`) names a resource of the
 * template and an attribute its type returns (custom resources return whatever their function sends,
 * so they are not checked). A wrong attribute name fails only at deploy otherwise.
 */
export function validateGetAtts(
  template: { Resources: Record<string, { Type: string }>; Outputs?: Record<string, unknown> },
  spec: Spec,
): string[] {
  const errors: string[] = [];
  const check = (where: string, id: string, attr: string) => {
    const r = template.Resources[id];
    if (!r) return void errors.push(`${where}: GetAtt of unknown resource ${id}`);
    if (r.Type.startsWith('Custom::')) return;
    const rs = spec.resources.get(r.Type);
    if (rs && !(attr in (rs.attributes ?? {}))) errors.push(`${where}: ${r.Type} has no attribute ${attr}`);
  };
  const walk = (v: unknown, where: string): void => {
    if (Array.isArray(v)) {
      for (const [i, x] of v.entries()) walk(x, `${where}[${i}]`);
      return;
    }
    if (!v || typeof v !== 'object') return;
    for (const [k, x] of Object.entries(v)) {
      if (k === 'Fn::GetAtt') {
        const [id, attr] = Array.isArray(x) ? (x as string[]) : String(x).split(/\.(.*)/s);
        if (typeof id === 'string' && typeof attr === 'string') check(where, id, attr);
      } else if (k === 'Fn::Sub') {
        const text = Array.isArray(x) ? String(x[0]) : String(x);
        const vars = Array.isArray(x) && x[1] && typeof x[1] === 'object' ? Object.keys(x[1] as object) : [];
        for (const m of text.matchAll(/\$\{([A-Za-z0-9]+)\.([A-Za-z0-9.]+)\}/g)) if (!vars.includes(m[1]!)) check(where, m[1]!, m[2]!);
      }
      walk(x, `${where}.${k}`);
    }
  };
  for (const [id, r] of Object.entries(template.Resources)) walk(r, id);
  for (const [id, o] of Object.entries(template.Outputs ?? {})) walk(o, `Outputs.${id}`);
  return errors;
}
