// How Calico turns v3 policy and rule selectors into the selectors Felix evaluates against
// endpoint labels: namespaced policies are scoped to their namespace, namespaceSelectors are
// matched against the `pcns.`-prefixed labels namespace profiles apply (with all()/global()
// rewritten), service-account selectors against `pcsa.` labels.

import {
  LABEL_NAMESPACE, LABEL_SERVICE_ACCOUNT, parseSelector, quoteSelectorValue, selectorFromAst,
  type EntityRule, type Selector, type SelectorNode, type ServiceAccountMatch,
} from '@tabby/api';

export const NAMESPACE_LABEL_PREFIX = 'pcns.';
export const SERVICE_ACCOUNT_LABEL_PREFIX = 'pcsa.';

const HAS_NAMESPACE: SelectorNode = { kind: 'has', label: LABEL_NAMESPACE };

/** Replaces all() by has(namespace) and global() by !has(namespace) (after prefixing). */
function rewriteNamespaceSpecials(node: SelectorNode): SelectorNode {
  switch (node.kind) {
    case 'all': return HAS_NAMESPACE;
    case 'global': return { kind: 'not', operand: HAS_NAMESPACE };
    case 'not': return { kind: 'not', operand: rewriteNamespaceSpecials(node.operand) };
    case 'and':
    case 'or': return { kind: node.kind, operands: node.operands.map(rewriteNamespaceSpecials) };
    default: return node;
  }
}

/** A rule's namespaceSelector as an endpoint selector. */
export function ruleNamespaceSelector(nsSelector: string): string {
  const prefixed = parseSelector(nsSelector).withLabelPrefix(NAMESPACE_LABEL_PREFIX);
  return selectorFromAst(rewriteNamespaceSpecials(prefixed.ast)).toString();
}

function namespaceEquals(ns: string): string {
  return `${LABEL_NAMESPACE} == ${quoteSelectorValue(ns)}`;
}

function and(a: string, b: string): string {
  return `(${a}) && (${b})`;
}

function serviceAccountSelector(sa: ServiceAccountMatch): string {
  let sel = sa.selector ? parseSelector(sa.selector).withLabelPrefix(SERVICE_ACCOUNT_LABEL_PREFIX).toString() : '';
  if (sa.names?.length) {
    const names = parseSelector(`${LABEL_SERVICE_ACCOUNT} in { ${sa.names.map(quoteSelectorValue).join(', ')} }`).toString();
    sel = sel ? and(sel, names) : names;
  }
  return sel;
}

export interface EntitySelectors {
  /** Positive selector (namespaced as Calico does), or undefined when the rule has none. */
  selector?: Selector;
  notSelector?: Selector;
}

/**
 * The selectors of one side of a rule. `namespace` is the policy's namespace ('' for global
 * policies and profiles). Mirrors libcalico-go's v3 -> v1 rule conversion: the namespace part is
 * added only when the side selects something (selector, notSelector or namespaceSelector); the
 * notSelector itself is never namespaced.
 */
export function entitySelectors(er: EntityRule | undefined, namespace: string): EntitySelectors {
  if (!er) return {};
  let nsSel = '';
  if (er.namespaceSelector) nsSel = ruleNamespaceSelector(er.namespaceSelector);
  else if (namespace) nsSel = namespaceEquals(namespace);
  const parts: string[] = [];
  if (er.serviceAccounts) {
    const sa = serviceAccountSelector(er.serviceAccounts);
    if (sa) parts.push(sa);
  }
  if (er.selector) parts.push(er.selector);
  let sel = parts.length === 0 ? '' : parts.length === 1 ? parts[0]! : `(${parts.join(') && (')})`;
  if (nsSel && (sel || er.notSelector || er.namespaceSelector)) sel = sel ? and(nsSel, sel) : nsSel;
  const out: EntitySelectors = {};
  if (sel) out.selector = parseSelector(sel);
  if (er.notSelector) out.notSelector = parseSelector(er.notSelector);
  return out;
}

export interface PolicySelectorInput {
  namespace?: string;
  selector?: string;
  namespaceSelector?: string;
  serviceAccountSelector?: string;
}

/** The endpoint selector of a (Global)NetworkPolicy, with its namespace scoping. */
export function policyEndpointSelector(p: PolicySelectorInput): Selector {
  let sel = p.selector?.trim() ? p.selector : 'all()';
  if (p.namespace) sel = and(namespaceEquals(p.namespace), sel);
  else if (p.namespaceSelector?.trim()) sel = and(sel, ruleNamespaceSelector(p.namespaceSelector));
  if (p.serviceAccountSelector?.trim()) {
    sel = and(sel, parseSelector(p.serviceAccountSelector).withLabelPrefix(SERVICE_ACCOUNT_LABEL_PREFIX).toString());
  }
  return parseSelector(sel);
}
