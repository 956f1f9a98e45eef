/**
 * tabAlign lays out tab-separated text the way Go's text/tabwriter does with etcdctl's settings (min width 0,
 * tab width 8, padding 1, padding with tabs): each column of consecutive lines that have a cell there gets the
 * width of its widest cell plus one, rounded up to a tab stop, and cells are padded with tabs to it. etcdctl's
 * help and `member list` style outputs are laid out this way.
 */

const TAB_WIDTH = 8;
const PADDING = 1;

/** tabAlign formats a whole text (lines separated by "\n", cells terminated by "\t"). */
export function tabAlign(text: string): string {
  const lines = text.split("\n").map((l) => l.split("\t"));
  const out: string[] = [];
  const widths: number[] = [];
  const cellWidth = (s: string) => [...s].length;

  const writeLines = (from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const cells = lines[i] as string[];
      let s = "";
      cells.forEach((cell, j) => {
        s += cell;
        if (j < cells.length - 1 && j < widths.length) {
          const cellw = Math.ceil((widths[j] as number) / TAB_WIDTH) * TAB_WIDTH;
          s += "\t".repeat(Math.ceil((cellw - cellWidth(cell)) / TAB_WIDTH));
        } else if (j < cells.length - 1) {
          s += "\t";
        }
      });
      out.push(s);
    }
  };

  const format = (line0: number, line1: number) => {
    const column = widths.length;
    let start = line0;
    for (let i = line0; i < line1; i++) {
      if (column >= (lines[i] as string[]).length - 1) continue;
      writeLines(start, i);
      start = i;
      let width = 0;
      for (; i < line1; i++) {
        const cells = lines[i] as string[];
        if (column >= cells.length - 1) break;
        width = Math.max(width, cellWidth(cells[column] as string) + PADDING);
      }
      widths.push(width);
      format(start, i);
      widths.pop();
      start = i;
      i--;
    }
    writeLines(start, line1);
  };

  format(0, lines.length);
  return out.join("\n");
}
