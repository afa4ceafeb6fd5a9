// Tables as calicoctl prints them.
//
// `ps`/`wide` output goes through Go's tabwriter with minwidth 5, padding 3 and every cell
// (the last one too) terminated by a tab, so each column is max(5, widest cell + 3) wide and
// lines keep their trailing padding. `node status` uses a bordered table instead.

export function renderColumns(headings: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headings.map((h, i) => Math.max(5, ...[h, ...rows.map((r) => r[i] ?? '')].map((c) => c.length + 3)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('') + '\n';
  return line(headings) + rows.map(line).join('');
}

/**
 * A bordered table with centred headers, as in `calicoctl node status` (tablewriter), or with
 * left-aligned headers (`headers: 'left'`) as go-pretty's default style prints the `ipam show`
 * tables. With no rows the header is followed directly by the closing border line.
 */
export function renderBordered(headings: readonly string[], rows: readonly (readonly string[])[], opts: { headers?: 'centre' | 'left' } = {}): string {
  const widths = headings.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const border = '+' + widths.map((w) => '-'.repeat(w + 2)).join('+') + '+\n';
  const centre = (s: string, w: number) => {
    const left = Math.floor((w - s.length) / 2);
    return ' '.repeat(left) + s + ' '.repeat(w - s.length - left);
  };
  const align = opts.headers === 'left' ? (h: string, w: number) => h.padEnd(w) : centre;
  const head = '|' + headings.map((h, i) => ` ${align(h.toUpperCase(), widths[i]!)} `).join('|') + '|\n';
  const body = rows.map((r) => '|' + widths.map((w, i) => ` ${(r[i] ?? '').padEnd(w)} `).join('|') + '|\n').join('');
  return border + head + border + (rows.length ? body + border : '');
}
