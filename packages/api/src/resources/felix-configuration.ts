// PLACEHOLDER: the full FelixConfiguration type, schema, defaults and validation land with the api work.
import type { ResourceOf } from '../meta.js';
import { any, type Schema } from '../validate/schema.js';
import type { Issues } from '../validate/issues.js';

export interface FelixConfigurationSpec {
  [field: string]: unknown;
}
export type FelixConfiguration = ResourceOf<'FelixConfiguration', FelixConfigurationSpec>;

export const felixConfigurationSpecSchema: Schema = any;

export function defaultFelixConfiguration(r: FelixConfiguration): FelixConfiguration {
  return r;
}

export function validateFelixConfiguration(_r: FelixConfiguration, _issues: Issues): void {}
