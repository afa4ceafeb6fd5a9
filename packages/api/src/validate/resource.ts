// Validation of a whole resource as read from user input: envelope, metadata, spec structure,
// then kind-specific semantic rules on the defaulted object.

import { API_VERSION, type ObjectMeta } from '../meta.js';
import { KINDS, type AnyResource, type KindDef, type KindName } from '../kinds.js';
import { Issues, type FieldIssue } from './issues.js';
import { checkSchema, isPlainObject, map, obj, str, suggest, type Check } from './schema.js';
import { checkDnsSubdomain, isDns1123Subdomain } from './common.js';

const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

export function isLabelKey(k: string): boolean {
  const slash = k.lastIndexOf('/');
  const name = slash >= 0 ? k.slice(slash + 1) : k;
  const prefix = slash >= 0 ? k.slice(0, slash) : undefined;
  if (prefix !== undefined && !isDns1123Subdomain(prefix)) return false;
  return name.length > 0 && name.length <= 63 && LABEL_NAME.test(name);
}

export function isLabelValue(v: string): boolean {
  return v === '' || (v.length <= 63 && LABEL_NAME.test(v));
}

const checkLabels: Check = (v, path, issues) => {
  if (!isPlainObject(v)) return;
  for (const [k, val] of Object.entries(v)) {
    if (!isLabelKey(k)) issues.add(`${path}.${k}`, k, 'invalid label key: an optional DNS subdomain prefix and "/", then up to 63 alphanumerics, "-", "_" or "." starting and ending with an alphanumeric');
    else if (typeof val === 'string' && !isLabelValue(val)) issues.add(`${path}.${k}`, val, 'invalid label value: up to 63 alphanumerics, "-", "_" or ".", starting and ending with an alphanumeric');
  }
};

const metadataSchema = obj({
  name: str(),
  namespace: str(),
  labels: { t: 'custom', check: (v, p, i) => { checkSchema(v, map(str()), p, i); checkLabels(v, p, i); } },
  annotations: map(str()),
  resourceVersion: str(),
  uid: str(),
  creationTimestamp: str(),
  generateName: str(),
});

/** Accepted `kind:` spellings besides the canonical names. */
const KIND_SYNONYMS: Record<string, KindName> = { IPAMConfiguration: 'IPAMConfig' };

export function kindFromManifest(kind: string): KindName | undefined {
  if (kind in KINDS) return kind as KindName;
  return KIND_SYNONYMS[kind];
}

export interface ValidateOptions {
  /** Namespace given to namespaced resources that carry none (calicoctl's `-n`, default "default"). */
  defaultNamespace?: string;
  /** Fill in Calico's defaults before the semantic checks (default true). */
  applyDefaults?: boolean;
}

export interface ValidateResult {
  /** The normalised resource, present only when there are no issues. */
  resource?: AnyResource;
  issues: FieldIssue[];
}

/** Validates untrusted input (a parsed YAML/JSON document) as a v3 resource. */
export function validateResource(input: unknown, opts: ValidateOptions = {}): ValidateResult {
  const issues = new Issues();
  if (!isPlainObject(input)) {
    issues.add('', input, 'a resource must be a mapping with apiVersion, kind, metadata and spec');
    return { issues: issues.list };
  }
  for (const k of Object.keys(input)) {
    if (!['apiVersion', 'kind', 'metadata', 'spec', 'status'].includes(k)) {
      const hint = suggest(k, ['apiVersion', 'kind', 'metadata', 'spec']);
      issues.add(k, input[k], `unknown field${hint ? ` (did you mean "${hint}"?)` : ''}`);
    }
  }
  if (input['apiVersion'] !== API_VERSION) {
    issues.add('apiVersion', input['apiVersion'], `must be ${API_VERSION}`);
  }
  const rawKind = input['kind'];
  const kind = typeof rawKind === 'string' ? kindFromManifest(rawKind) : undefined;
  if (!kind) {
    const hint = typeof rawKind === 'string' ? suggest(rawKind, Object.keys(KINDS)) : undefined;
    issues.add('kind', rawKind, `unknown resource kind${hint ? ` (did you mean "${hint}"?)` : ''}; known kinds: ${Object.keys(KINDS).join(', ')}`);
    return { issues: issues.list };
  }
  const def = KINDS[kind] as KindDef<AnyResource>;

  const rawMeta = input['metadata'] ?? {};
  checkSchema(rawMeta, metadataSchema, 'metadata', issues);
  const meta = (isPlainObject(rawMeta) ? { ...rawMeta } : {}) as unknown as ObjectMeta;
  if (typeof meta.name !== 'string' || meta.name === '') {
    issues.add('metadata.name', meta.name, 'is required');
  } else {
    (def.checkName ?? checkDnsSubdomain)(meta.name, 'metadata.name', issues);
  }
  if (def.namespaced) {
    if (meta.namespace === undefined || meta.namespace === '') {
      if (opts.defaultNamespace) meta.namespace = opts.defaultNamespace;
      else issues.add('metadata.namespace', meta.namespace, `is required for the namespaced kind ${kind}`);
    }
    if (meta.namespace !== undefined) checkDnsSubdomain(meta.namespace, 'metadata.namespace', issues);
  } else if (meta.namespace !== undefined && meta.namespace !== '') {
    issues.add('metadata.namespace', meta.namespace, `must not be set: ${kind} is not namespaced`);
  } else {
    delete meta.namespace;
  }

  const rawSpec = input['spec'] ?? {};
  checkSchema(rawSpec, def.specSchema, 'spec', issues);
  if (!issues.ok) return { issues: issues.list };

  let resource = {
    apiVersion: API_VERSION,
    kind,
    metadata: meta,
    spec: structuredClone(rawSpec),
  } as AnyResource;
  if ('status' in input && input['status'] !== undefined) {
    (resource as unknown as Record<string, unknown>)['status'] = structuredClone(input['status']);
  }
  if (opts.applyDefaults !== false) resource = def.defaults(resource);
  def.validate(resource, issues);
  return issues.ok ? { resource, issues: [] } : { issues: issues.list };
}
