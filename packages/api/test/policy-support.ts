// Helpers shared by the policy*.test.ts files: fixtures, resource builders and issue assertions.

import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { parseAllDocuments } from 'yaml';
import { validateResource, type AnyResource, type FieldIssue, type ValidateOptions } from '@tabby/api';

const FIXTURES = new URL('../fixtures/policy/', import.meta.url);

/** Every YAML document of a fixture file, as plain data. */
export function loadFixture(name: string): Record<string, unknown>[] {
  const text = readFileSync(new URL(name, FIXTURES), 'utf8');
  return parseAllDocuments(text).map((d) => {
    if (d.errors.length) throw new Error(`${name}: ${d.errors.map((e) => e.message).join('; ')}`);
    return d.toJS() as Record<string, unknown>;
  });
}

export function issuesOf(doc: unknown, opts?: ValidateOptions): FieldIssue[] {
  return validateResource(doc, opts).issues;
}

export function expectValid(doc: unknown, opts?: ValidateOptions): AnyResource {
  const r = validateResource(doc, opts);
  expect(r.issues, JSON.stringify(r.issues, null, 1)).to.deep.equal([]);
  return r.resource!;
}

/** Asserts an issue at exactly `path` whose reason contains `reason`. */
export function expectIssue(doc: unknown, path: string, reason: string, value?: unknown): FieldIssue {
  const issues = issuesOf(doc);
  const hit = issues.find((i) => i.path === path && i.reason.includes(reason));
  expect(hit, `no issue at ${path} containing "${reason}"; got ${JSON.stringify(issues, null, 1)}`).to.not.equal(undefined);
  if (value !== undefined) expect(hit!.value).to.deep.equal(value);
  return hit!;
}

export function np(spec: Record<string, unknown>, name = 'p'): Record<string, unknown> {
  return { apiVersion: 'projectcalico.org/v3', kind: 'NetworkPolicy', metadata: { name, namespace: 'default' }, spec };
}

export function gnp(spec: Record<string, unknown>, name = 'p'): Record<string, unknown> {
  return { apiVersion: 'projectcalico.org/v3', kind: 'GlobalNetworkPolicy', metadata: { name }, spec };
}

/** A NetworkPolicy holding one ingress rule. */
export function ingress(rule: Record<string, unknown>): Record<string, unknown> {
  return np({ ingress: [rule] });
}

/** A NetworkPolicy holding one egress rule. */
export function egress(rule: Record<string, unknown>): Record<string, unknown> {
  return np({ egress: [rule] });
}
