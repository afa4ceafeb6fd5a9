// PLACEHOLDER: the full BGPConfiguration type, schema, defaults and validation land with the api work.
import type { ResourceOf } from '../meta.js';
import { any, type Schema } from '../validate/schema.js';
import type { Issues } from '../validate/issues.js';

export interface BGPConfigurationSpec {
  [field: string]: unknown;
}
export type BGPConfiguration = ResourceOf<'BGPConfiguration', BGPConfigurationSpec>;

export const bgpConfigurationSpecSchema: Schema = any;

export function defaultBGPConfiguration(r: BGPConfiguration): BGPConfiguration {
  return r;
}

export function validateBGPConfiguration(_r: BGPConfiguration, _issues: Issues): void {}
