/**
 * The API table's facts that no single API's test shows: from which version each answer's throttle time is the
 * client's to wait out (KIP-219). Each value is the "Starting in version N, on quota violation, brokers send out
 * responses before throttling" of Kafka's message definition for that answer; Produce's is in its class
 * (`ProduceResponse.shouldClientThrottle`: v6).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AddOffsetsToTxn } from '../../src/protocol/apis/add-offsets-to-txn.js';
import { AddPartitionsToTxn } from '../../src/protocol/apis/add-partitions-to-txn.js';
import { ApiVersions } from '../../src/protocol/apis/api-versions.js';
import { CreateTopics } from '../../src/protocol/apis/create-topics.js';
import { DeleteTopics } from '../../src/protocol/apis/delete-topics.js';
import { EndTxn } from '../../src/protocol/apis/end-txn.js';
import { FindCoordinator } from '../../src/protocol/apis/find-coordinator.js';
import { InitProducerId } from '../../src/protocol/apis/init-producer-id.js';
import { Metadata } from '../../src/protocol/apis/metadata.js';
import { Produce } from '../../src/protocol/apis/produce.js';
import { SaslAuthenticate } from '../../src/protocol/apis/sasl-authenticate.js';
import { SaslHandshake } from '../../src/protocol/apis/sasl-handshake.js';
import { TxnOffsetCommit } from '../../src/protocol/apis/txn-offset-commit.js';

describe('ApiDefinition', () => {
  it('clientThrottlesFrom: the version from which the broker answers a throttled request at once and mutes the connection', () => {
    const apis = [
      AddOffsetsToTxn, AddPartitionsToTxn, ApiVersions, CreateTopics, DeleteTopics, EndTxn, FindCoordinator,
      InitProducerId, Metadata, Produce, SaslAuthenticate, SaslHandshake, TxnOffsetCommit,
    ];
    assert.deepEqual(Object.fromEntries(apis.map((api) => [api.name, api.clientThrottlesFrom])), {
      AddOffsetsToTxn: 1,
      AddPartitionsToTxn: 1,
      ApiVersions: 2,
      CreateTopics: 3,
      DeleteTopics: 2,
      EndTxn: 1,
      FindCoordinator: 2,
      InitProducerId: 1,
      Metadata: 6,
      Produce: 6,
      SaslAuthenticate: undefined, // its answer has no throttle time
      SaslHandshake: undefined,
      TxnOffsetCommit: 1,
    });
  });
});
