/**
 * bench/results/latest.svg: a grouped bar chart of records/s, one group per scenario and one bar per client,
 * written as SVG text (no charting library). 100 B and 1 KiB records differ by an order of magnitude in
 * records/s, so every bar carries its value and each group is scaled to its own fastest client; the bars'
 * heights compare clients within a scenario, the labels compare across scenarios.
 */

export interface ChartBar {
  readonly client: string;
  readonly value: number | null;
  /** Shown instead of a bar when there is no value. */
  readonly note?: string;
}

export interface ChartGroup {
  readonly label: string;
  readonly bars: readonly ChartBar[];
}

/** Colour per client, in CLIENTS order; ringkafka first and strongest. */
const PALETTE = ['#d62728', '#1f77b4', '#9467bd', '#17becf', '#2ca02c', '#ff7f0e', '#8c564b', '#7f7f7f'];

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** "123k", "1.2M", "950". */
export function shortNumber(value: number): string {
  if (value >= 1e6) return `${(value / 1e6).toPrecision(3)}M`;
  if (value >= 1e3) return `${(value / 1e3).toPrecision(3)}k`;
  return value.toPrecision(3);
}

function legendItemWidth(client: string): number {
  return 36 + client.length * 7;
}

export function groupedBarChart(title: string, subtitle: string, groups: readonly ChartGroup[]): string {
  const clients = [...new Set(groups.flatMap((g) => g.bars.map((b) => b.client)))];
  const color = (client: string): string => PALETTE[clients.indexOf(client) % PALETTE.length]!;
  const barWidth = 30;
  const barGap = 6;
  const groupGap = 40;
  const left = 30;
  const top = 80;
  const plotHeight = 260;
  const groupWidth = clients.length * (barWidth + barGap) - barGap;
  const legendWidth = clients.reduce((sum, client) => sum + legendItemWidth(client), 0);
  // Wide enough for the plot, the legend and the subtitle (about 6 px per 11 px character).
  const width = Math.ceil(
    Math.max(left * 2 + groups.length * groupWidth + (groups.length - 1) * groupGap, left * 2 + legendWidth, left * 2 + subtitle.length * 6),
  );
  const legendTop = top + plotHeight + 50;
  const height = legendTop + 30;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${left}" y="24" font-size="16" font-weight="bold">${escapeXml(title)}</text>`,
    `<text x="${left}" y="44" font-size="11" fill="#555">${escapeXml(subtitle)}</text>`,
    `<text x="${left}" y="60" font-size="11" fill="#555">labels: records/s; each scenario's bars are scaled to its fastest client</text>`,
    `<line x1="${left}" y1="${top + plotHeight}" x2="${width - left}" y2="${top + plotHeight}" stroke="#333"/>`,
  ];
  groups.forEach((group, g) => {
    const x0 = left + g * (groupWidth + groupGap);
    const max = Math.max(0, ...group.bars.map((b) => b.value ?? 0));
    group.bars.forEach((bar) => {
      const x = x0 + clients.indexOf(bar.client) * (barWidth + barGap);
      const cx = x + barWidth / 2;
      if (bar.value === null || max === 0) {
        out.push(
          `<text x="${cx}" y="${top + plotHeight - 6}" font-size="10" fill="#888" transform="rotate(-90 ${cx} ${top + plotHeight - 6})">${escapeXml(bar.note ?? 'no result')}</text>`,
        );
        return;
      }
      const h = Math.max(1, (bar.value / max) * (plotHeight - 20));
      const y = top + plotHeight - h;
      out.push(
        `<rect x="${x}" y="${y.toFixed(1)}" width="${barWidth}" height="${h.toFixed(1)}" fill="${color(bar.client)}"><title>${escapeXml(`${bar.client} ${group.label}: ${Math.round(bar.value)} records/s`)}</title></rect>`,
        `<text x="${cx}" y="${(y - 4).toFixed(1)}" font-size="10" text-anchor="middle">${shortNumber(bar.value)}</text>`,
      );
    });
    out.push(`<text x="${x0 + groupWidth / 2}" y="${top + plotHeight + 18}" font-size="12" text-anchor="middle">${escapeXml(group.label)}</text>`);
  });
  let legendX = left;
  for (const client of clients) {
    out.push(
      `<rect x="${legendX}" y="${legendTop}" width="12" height="12" fill="${color(client)}"/>`,
      `<text x="${legendX + 16}" y="${legendTop + 10}" font-size="12">${escapeXml(client)}</text>`,
    );
    legendX += legendItemWidth(client);
  }
  out.push('</svg>');
  return out.join('\n') + '\n';
}
