import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { groupToolError, parseControlRecords, parseGroupOffsets } from './tool-output.js';

// Captured from Kafka 4.3.1's tools on the local broker (transaction.version 2): Kafka's own transactional
// producer wrote three records to partition 0 and committed, with sendOffsets for the group (partition 0 at 3,
// partition 1 at 7), then wrote two more and aborted. The consumer-group tool printed "Consumer group '…' has no
// active members." on stderr.
const DESCRIBE = `
GROUP                      TOPIC                PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG             CONSUMER-ID     HOST            CLIENT-ID
wtb-probe-1796067338-group wtb-probe-1796067338 0          3               7               4               -               -               -
wtb-probe-1796067338-group wtb-probe-1796067338 1          7               0               -7              -               -               -
`;

const SEGMENT = '/k/node-1/data/wtb-probe-1796067338-0/00000000000000000000.log';
const DEEP_DUMP = `Dumping ${SEGMENT}
Log starting offset: 0
baseOffset: 0 lastOffset: 2 count: 3 baseSequence: 0 lastSequence: 2 producerId: 10000 producerEpoch: 0 partitionLeaderEpoch: 0 isTransactional: true isControl: false deleteHorizonMs: OptionalLong.empty position: 0 CreateTime: 1796067351426 size: 123 magic: 2 compresscodec: none crc: 1435677560 isvalid: true
| offset: 0 CreateTime: 1796067351359 keySize: 2 valueSize: 11 sequence: 0 headerKeys: []
| offset: 1 CreateTime: 1796067351426 keySize: 2 valueSize: 11 sequence: 1 headerKeys: []
| offset: 2 CreateTime: 1796067351426 keySize: 2 valueSize: 11 sequence: 2 headerKeys: []
baseOffset: 3 lastOffset: 3 count: 1 baseSequence: -1 lastSequence: -1 producerId: 10000 producerEpoch: 1 partitionLeaderEpoch: 0 isTransactional: true isControl: true deleteHorizonMs: OptionalLong.empty position: 123 CreateTime: 1796067351910 size: 78 magic: 2 compresscodec: none crc: 4183635282 isvalid: true
| offset: 3 CreateTime: 1796067351910 keySize: 4 valueSize: 6 sequence: -1 headerKeys: [] endTxnMarker: COMMIT coordinatorEpoch: 0
baseOffset: 4 lastOffset: 5 count: 2 baseSequence: 0 lastSequence: 1 producerId: 10000 producerEpoch: 1 partitionLeaderEpoch: 0 isTransactional: true isControl: false deleteHorizonMs: OptionalLong.empty position: 201 CreateTime: 1796067351873 size: 97 magic: 2 compresscodec: none crc: 2067676560 isvalid: true
| offset: 4 CreateTime: 1796067351873 keySize: 2 valueSize: 9 sequence: 0 headerKeys: []
| offset: 5 CreateTime: 1796067351873 keySize: 2 valueSize: 9 sequence: 1 headerKeys: []
baseOffset: 6 lastOffset: 6 count: 1 baseSequence: -1 lastSequence: -1 producerId: 10000 producerEpoch: 2 partitionLeaderEpoch: 0 isTransactional: true isControl: true deleteHorizonMs: OptionalLong.empty position: 298 CreateTime: 1796067351988 size: 78 magic: 2 compresscodec: none crc: 15765445 isvalid: true
| offset: 6 CreateTime: 1796067351988 keySize: 4 valueSize: 6 sequence: -1 headerKeys: [] endTxnMarker: ABORT coordinatorEpoch: 0
`;

describe('consumer-group tool output', () => {
  it('reads each partition committed offset by topic:partition', () => {
    assert.deepEqual(parseGroupOffsets(DESCRIBE), new Map([['wtb-probe-1796067338:0', 3], ['wtb-probe-1796067338:1', 7]]));
  });

  it('leaves out a partition with no committed offset, and text that is not the table', () => {
    const output = `Consumer group 'g' has no active members.\n${DESCRIBE.replace('1          7   ', '1          -   ')}`;
    assert.deepEqual(parseGroupOffsets(output), new Map([['wtb-probe-1796067338:0', 3]]));
    assert.deepEqual(parseGroupOffsets(''), new Map());
  });

  it('tells a group that does not exist from other errors (the tool exits 0 on both)', () => {
    // as printed for a group nothing had committed to
    const missing = 'Error: Executing consumer group command failed due to org.apache.kafka.common.errors.GroupIdNotFoundException: Group nope not found.';
    assert.equal(groupToolError(`\n${missing}\njava.util.concurrent.ExecutionException: …`)?.missing, true);
    assert.equal(groupToolError('Error: Executing consumer group command failed due to org.apache.kafka.common.errors.TimeoutException: x')?.missing, false);
    assert.equal(groupToolError(DESCRIBE), undefined);
  });
});

describe('DumpLogSegments transaction markers', () => {
  it('lists the COMMIT and ABORT control records with the producer that wrote them, and nothing else', () => {
    assert.deepEqual(parseControlRecords(DEEP_DUMP), new Map([[SEGMENT, [
      { offset: 3, type: 'COMMIT', producerId: 10000n, producerEpoch: 1, coordinatorEpoch: 0 },
      { offset: 6, type: 'ABORT', producerId: 10000n, producerEpoch: 2, coordinatorEpoch: 0 },
    ]]]));
  });

  it('gives a file without transactions an empty list', () => {
    const plain = DEEP_DUMP.split('\n').slice(0, 6).join('\n').replaceAll('isTransactional: true', 'isTransactional: false');
    assert.deepEqual(parseControlRecords(plain), new Map([[SEGMENT, []]]));
  });

  it('fails loudly on a control record it cannot read, rather than missing a marker', () => {
    const odd = DEEP_DUMP.replace('endTxnMarker: COMMIT', 'endTxnMarker: SOMETHING');
    assert.throws(() => parseControlRecords(odd), /without a transaction marker/);
  });
});
