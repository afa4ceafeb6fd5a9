// Reading back `iptables-save -t filter`: only chain names and our `cali:<hash>` rule comments
// are parsed, never the matches themselves, so output differences between iptables versions
// and backends do not matter.

export interface SavedRule {
  /** Our hash, or undefined for a rule without a `cali:` comment (not ours). */
  hash: string | undefined;
}

export interface SavedTable {
  /** Chain name -> its rules in order; includes kernel chains and chains of other software. */
  chains: Map<string, SavedRule[]>;
}

const HASH_RE = /--comment "?cali:([A-Za-z0-9_-]+)"?/;

export function parseIptablesSave(text: string, table = 'filter'): SavedTable {
  const chains = new Map<string, SavedRule[]>();
  let inTable = false;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('*')) { inTable = line.slice(1) === table; continue; }
    if (!inTable || line === '' || line.startsWith('#')) continue;
    if (line === 'COMMIT') { inTable = false; continue; }
    if (line.startsWith(':')) {
      const name = line.slice(1).split(/\s+/)[0]!;
      if (!chains.has(name)) chains.set(name, []);
      continue;
    }
    if (line.startsWith('-A ')) {
      const name = line.slice(3).split(/\s+/)[0]!;
      let rules = chains.get(name);
      if (!rules) chains.set(name, (rules = []));
      rules.push({ hash: HASH_RE.exec(line)?.[1] });
    }
  }
  return { chains };
}
