/**
 * Parsers of Kafka's tool output for the transactional proofs in readback.ts, kept pure so that they are tested on
 * captured output (tool-output.test.ts) without a broker: the consumer-group tool's offsets table and the
 * transaction markers in DumpLogSegments' deep iteration.
 */

/**
 * Committed offsets by `topic:partition`, from `ConsumerGroupCommand --describe --group G`: a header line naming
 * the columns, then one row per partition. A partition without a committed offset (CURRENT-OFFSET `-`) is left
 * out. Columns are found by name, since the tool pads them to the widest value.
 */
export function parseGroupOffsets(output: string): Map<string, number> {
  const offsets = new Map<string, number>();
  let columns: string[] | undefined;
  for (const line of output.split('\n')) {
    const cells = line.trim().split(/\s+/);
    if (cells[0] === 'GROUP' && cells.includes('CURRENT-OFFSET')) {
      columns = cells;
      continue;
    }
    if (columns === undefined || cells.length < columns.length) continue;
    const cell = (name: string): string => cells[columns!.indexOf(name)]!;
    const offset = cell('CURRENT-OFFSET');
    if (!/^\d+$/.test(offset) || !/^\d+$/.test(cell('PARTITION'))) continue;
    offsets.set(`${cell('TOPIC')}:${cell('PARTITION')}`, Number(offset));
  }
  return offsets;
}

/**
 * The tool reports a group it cannot describe on an `Error:` line and still exits 0. A group that does not exist
 * (nothing committed yet) reads as no offsets; any other error is thrown with its text.
 */
export function groupToolError(output: string): { readonly missing: boolean; readonly message: string } | undefined {
  const line = output.split('\n').find((l) => l.startsWith('Error:'));
  if (line === undefined) return undefined;
  return { missing: /GroupIdNotFoundException|does not exist/.test(line), message: line };
}

export interface ControlMarker {
  readonly offset: number;
  /** The transaction marker's type: the end of a committed or of an aborted transaction. */
  readonly type: 'COMMIT' | 'ABORT';
  readonly producerId: bigint;
  readonly producerEpoch: number;
  readonly coordinatorEpoch: number;
}

/**
 * The transaction markers of each dumped file, in file order, from `DumpLogSegments --deep-iteration`: a control
 * batch's header line (`isControl: true`, with the producer id and epoch) is followed by its record line, which
 * names the marker (`endTxnMarker: COMMIT coordinatorEpoch: 0`).
 */
export function parseControlRecords(output: string): Map<string, ControlMarker[]> {
  const byFile = new Map<string, ControlMarker[]>();
  let markers: ControlMarker[] | undefined;
  let batch: { producerId: bigint; producerEpoch: number; control: boolean } | undefined;
  const field = (line: string, name: string): string | undefined => new RegExp(`(?:^| )${name}: (\\S+)`).exec(line)?.[1];
  for (const line of output.split('\n')) {
    const dumping = /^Dumping (.+)$/.exec(line);
    if (dumping !== null) {
      markers = [];
      byFile.set(dumping[1]!.trim(), markers);
      batch = undefined;
    } else if (line.startsWith('baseOffset:')) {
      batch = { producerId: BigInt(field(line, 'producerId')!), producerEpoch: Number(field(line, 'producerEpoch')), control: field(line, 'isControl') === 'true' };
    } else if (line.startsWith('| offset:') && batch?.control === true && markers !== undefined) {
      const type = field(line, 'endTxnMarker');
      if (type !== 'COMMIT' && type !== 'ABORT') throw new Error(`DumpLogSegments control record without a transaction marker: ${line}`);
      markers.push({
        offset: Number(field(line, 'offset')),
        type,
        producerId: batch.producerId,
        producerEpoch: batch.producerEpoch,
        coordinatorEpoch: Number(field(line, 'coordinatorEpoch')),
      });
    }
  }
  return byFile;
}
