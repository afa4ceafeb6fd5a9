// PLACEHOLDER: the full Profile type, schema, defaults and validation land with the api work.
import type { ResourceOf } from '../meta.js';
import { any, type Schema } from '../validate/schema.js';
import type { Issues } from '../validate/issues.js';

export interface ProfileSpec {
  [field: string]: unknown;
}
export type Profile = ResourceOf<'Profile', ProfileSpec>;

export const profileSpecSchema: Schema = any;

export function defaultProfile(r: Profile): Profile {
  return r;
}

export function validateProfile(_r: Profile, _issues: Issues): void {}
