import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { NODE_DRIVERS, bundleNodeClients, clientBundle } from '../../../bench/lib/client-bundles.js';

describe('bundleNodeClients', () => {
  it('writes one plain-JavaScript file per Node driver, with its helpers inside and every package left an import', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ringkafka-bundles-'));
    try {
      await bundleNodeClients(dir);
      for (const driver of NODE_DRIVERS) {
        const text = readFileSync(clientBundle(driver, dir), 'utf8');
        // The harness (bench/clients/harness.ts) is inside: nothing is left for tsx to compile.
        assert.match(text, /function runClient\(/, driver);
        assert.doesNotMatch(text, /from "\.\.?\//, `${driver} imports no relative file`);
      }
      const ringkafka = readFileSync(clientBundle('ringkafka', dir), 'utf8');
      // ringkafka by its package name, so the built package loads and its workers start from dist/; inlined, the
      // producer would look for its worker script beside the bundle.
      assert.match(ringkafka, /import \{ Producer \} from "ringkafka";/);
      assert.doesNotMatch(ringkafka, /class Producer\b/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('puts the bundles one folder below bench/, as the drivers are, so their relative paths name the same folders', () => {
    assert.match(clientBundle('kafkajs'), /[/\\]bench[/\\]bin[/\\]client-kafkajs\.mjs$/);
  });
});
