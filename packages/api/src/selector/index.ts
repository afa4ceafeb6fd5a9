// Calico's label selector language: parsing, evaluation, canonical form and unique IDs.

export type {
  AllNode, AndNode, GlobalNode, HasNode, LabelSetNode, LabelValueNode, LabelValueOp, NotNode, OrNode,
  SelectorNode,
} from './ast.js';
export { compareCodePoints, mapSelectorLabels } from './ast.js';
export { canonicalSelectorString, quoteSelectorValue } from './canonical.js';
export { SelectorError, type SelectorErrorCode } from './errors.js';
export {
  compileSelector, evaluateSelectorNode, labelLookup,
  type CompiledSelector, type LabelLookup, type SelectorLabels,
} from './evaluate.js';
export { MAX_SELECTOR_LABEL_LENGTH, isValidSelectorLabel } from './lexer.js';
export { MAX_SELECTOR_DEPTH, parseSelectorNode } from './parser.js';
export {
  Selector, labelsMatch, normaliseSelector, parseSelector, selectorFromAst, selectorUniqueId,
} from './selector.js';
export { SelectorCache } from './cache.js';
export { calicoUniqueId } from './unique-id.js';
