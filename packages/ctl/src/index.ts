export { run, main } from './main.js';
export { renderColumns, renderBordered } from './output/table.js';
export { mergePatch, jsonPatch } from './patch.js';
export { parseDocuments } from './input.js';
export { renderNodeStatus, formatSince } from './commands/node/status.js';
export { goG5, goPercent, renderUsage } from './commands/ipam/show.js';
