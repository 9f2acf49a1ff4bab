import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { groupedBarChart, shortNumber } from '../../../bench/lib/svg.js';

describe('groupedBarChart', () => {
  const svg = groupedBarChart('records/s <test>', 'machine & co', [
    { label: '100B-none', bars: [{ client: 'ringkafka', value: 200_000 }, { client: 'java', value: 100_000 }] },
    { label: '1KiB-none', bars: [{ client: 'ringkafka', value: 50_000 }, { client: 'java', value: null, note: 'skipped' }] },
  ]);

  it('draws one bar per value and a note where there is none', () => {
    assert.equal((svg.match(/<rect x=/g) ?? []).length, 3 + 2); // three bars and two legend swatches
    assert.match(svg, />skipped</);
  });

  it('scales each scenario to its fastest client', () => {
    const heights = [...svg.matchAll(/<rect x="[\d.]+" y="[\d.]+" width="30" height="([\d.]+)"/g)].map((m) => Number(m[1]));
    assert.equal(heights[0], heights[2]); // each group's fastest bar is full height
    assert.equal(heights[1], heights[0]! / 2);
  });

  it('escapes text', () => {
    assert.match(svg, /records\/s &lt;test&gt;/);
    assert.match(svg, /machine &amp; co/);
    assert.ok(svg.startsWith('<svg xmlns='));
    assert.ok(svg.trimEnd().endsWith('</svg>'));
  });
});

describe('shortNumber', () => {
  it('abbreviates thousands and millions', () => {
    assert.equal(shortNumber(1_234_567), '1.23M');
    assert.equal(shortNumber(45_600), '45.6k');
    assert.equal(shortNumber(950), '950');
  });
});
