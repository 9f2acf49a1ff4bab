/**
 * A broker that acknowledges every Produce at once and costs the client nothing (test/helpers/fake-broker.ts in
 * autoAck mode), run in its own process so its work never lands on the measured main thread. Prints its address,
 * then serves until its stdin closes.
 *
 *   tsx bench/micro/ack-broker.ts [partitions]
 */
import { FakeBroker } from '../../test/helpers/fake-broker.js';

const broker = await FakeBroker.start(Number(process.argv[2] ?? 16), () => false, { autoAck: true });
process.stdout.write(`${broker.address}\n`);
process.stdin.resume();
process.stdin.on('end', () => void broker.close().then(() => process.exit(0)));
