// Reading the config file. Parse and validation errors name the file and the field.

import { readFile } from 'node:fs/promises';
import YAML from 'yaml';
import { ConfigError, parseConfig, type BgpdConfig } from './schema.js';

export async function loadConfig(file: string): Promise<BgpdConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new ConfigError('(file)', file, `cannot read: ${(e as Error).message}`, file);
  }
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (e) {
    throw new ConfigError('(yaml)', undefined, `not valid YAML: ${(e as Error).message.split('\n')[0]}`, file);
  }
  return parseConfig(doc, file);
}
