// Profile (cluster-scoped): labels inherited by the endpoints that list the profile, plus
// (deprecated) ingress/egress rules evaluated after all policies.

import type { Labels, ResourceOf } from '../meta.js';
import type { Issues } from '../validate/issues.js';
import { checkSchema, custom, isPlainObject, map, obj, str, type Check, type Schema } from '../validate/schema.js';
import { isLabelKey, isLabelValue } from '../validate/resource.js';
import { rulesSchema, validateRules, type Rule } from './rule.js';

export interface ProfileSpec {
  ingress?: Rule[];
  egress?: Rule[];
  /** Added to each endpoint's labels; the endpoint's own value wins on a clash. */
  labelsToApply?: Labels;
}
export type Profile = ResourceOf<'Profile', ProfileSpec>;

const checkLabelMap: Check = (v, path, issues) => {
  checkSchema(v, map(str()), path, issues);
  if (!isPlainObject(v)) return;
  for (const [k, val] of Object.entries(v)) {
    if (!isLabelKey(k)) {
      issues.add(`${path}.${k}`, k, 'invalid label key: an optional DNS subdomain prefix and "/", then up to 63 alphanumerics, "-", "_" or "." starting and ending with an alphanumeric');
    } else if (typeof val === 'string' && !isLabelValue(val)) {
      issues.add(`${path}.${k}`, val, 'invalid label value: up to 63 alphanumerics, "-", "_" or ".", starting and ending with an alphanumeric');
    }
  }
};

export const profileSpecSchema: Schema = obj({
  ingress: rulesSchema,
  egress: rulesSchema,
  labelsToApply: custom(checkLabelMap),
});

/** Calico's client defaults nothing on profiles. */
export function defaultProfile(r: Profile): Profile {
  return r;
}

export function validateProfile(r: Profile, issues: Issues): void {
  validateRules(r.spec.ingress, 'spec.ingress', issues);
  validateRules(r.spec.egress, 'spec.egress', issues);
}
