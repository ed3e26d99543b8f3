/** Small statistics and formatting helpers for the bench report. */

/** Nearest-rank percentile of `samples` (0 < p ≤ 100). */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) throw new Error('percentile of no samples');
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] as number;
}

/** The median; the mean of the two middle values for an even count. */
export function median(samples: readonly number[]): number {
  if (samples.length === 0) throw new Error('median of no samples');
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export interface Summary {
  n: number;
  min: number;
  p50: number;
  p90: number;
  max: number;
}

export function summarize(samples: readonly number[]): Summary {
  return {
    n: samples.length,
    min: Math.min(...samples),
    p50: median(samples),
    p90: percentile(samples, 90),
    max: Math.max(...samples),
  };
}

export const KIB = 1024;
export const kb = (bytes: number): string => `${(bytes / KIB).toFixed(1)} KB`;
export const ms = (value: number): string => `${value.toFixed(2)} ms`;
export const ratio = (value: number): string => `${value.toFixed(2)}×`;
export const round = (value: number, digits = 3): number => Number(value.toFixed(digits));

/** A plain-text table: columns padded to their widest cell; numbers-looking cells right-aligned. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const numeric = /^[-+]?[\d.,]+\s*(KB|ms|×|%)?$/;
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => {
        const width = widths[i] ?? 0;
        return numeric.test(cell) ? cell.padStart(width) : cell.padEnd(width);
      })
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export const section = (title: string): string =>
  `\n=== ${title} ${'='.repeat(Math.max(0, 86 - title.length))}`;
