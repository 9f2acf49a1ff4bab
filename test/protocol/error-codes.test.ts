import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode, brokerError, errorInfo, transactionErrorCategory } from '../../src/protocol/error-codes.js';
import { BrokerError, KafkaProducerError } from '../../src/shared/errors.js';

// docs/kafka-protocol.md, "Produce errors": the produce errors and how the Java producer treats them.
const PRODUCE_RETRIABLE = [2, 3, 5, 6, 7, 13, 19, 20, 56, 74, 100];
const PRODUCE_REFRESH = [3, 5, 6, 13, 56, 74, 100];
const PRODUCE_FATAL = [10, 18, 21, 29, 32, 43, 76, 87];

describe('error table', () => {
  it('covers every code from -1 to 133 exactly once', () => {
    const codes = Object.values(ErrorCode).sort((a, b) => a - b);
    assert.deepEqual(codes, Array.from({ length: 135 }, (_, i) => i - 1));
    const names = Object.keys(ErrorCode);
    assert.equal(new Set(names).size, names.length);
  });

  it('names codes as Kafka does', () => {
    assert.equal(errorInfo(-1).name, 'UNKNOWN_SERVER_ERROR');
    assert.equal(errorInfo(0).name, 'NONE');
    assert.equal(errorInfo(6).name, 'NOT_LEADER_OR_FOLLOWER');
    assert.equal(errorInfo(35).name, 'UNSUPPORTED_VERSION');
    assert.equal(errorInfo(45).name, 'OUT_OF_ORDER_SEQUENCE_NUMBER');
    assert.equal(errorInfo(46).name, 'DUPLICATE_SEQUENCE_NUMBER');
    assert.equal(errorInfo(89).name, 'THROTTLING_QUOTA_EXCEEDED');
    assert.equal(errorInfo(100).name, 'UNKNOWN_TOPIC_ID');
    assert.equal(errorInfo(120).name, 'TRANSACTION_ABORTABLE');
    assert.equal(errorInfo(129).name, 'REBOOTSTRAP_REQUIRED');
    for (const [name, code] of Object.entries(ErrorCode)) assert.equal(errorInfo(code).name, name);
  });

  it('marks the produce errors of docs/kafka-protocol.md as retriable, refreshing or fatal', () => {
    for (const code of PRODUCE_RETRIABLE) assert.equal(errorInfo(code).retriable, true, `code ${code} retriable`);
    for (const code of PRODUCE_REFRESH) assert.equal(errorInfo(code).refreshMetadata, true, `code ${code} refresh`);
    for (const code of [2, 7, 19, 20]) assert.equal(errorInfo(code).refreshMetadata, false, `code ${code} no refresh`);
    for (const code of PRODUCE_FATAL) {
      assert.equal(errorInfo(code).retriable, false, `code ${code} not retriable`);
      assert.equal(errorInfo(code).refreshMetadata, false, `code ${code} no refresh`);
    }
  });

  it('follows the Java exception classes beyond the produce path', () => {
    // RetriableException subclasses
    for (const code of [14, 15, 16, 41, 51, 75, 89, 133]) assert.equal(errorInfo(code).retriable, true, `code ${code}`);
    // not retriable, including the sequence and epoch errors the producer handles itself
    for (const code of [-1, 0, 1, 8, 35, 45, 46, 47, 58, 59, 90, 120, 129]) {
      assert.equal(errorInfo(code).retriable, false, `code ${code}`);
    }
    // a stale-metadata error is always retriable (InvalidMetadataException extends RetriableException)
    for (const code of Object.values(ErrorCode)) {
      if (errorInfo(code).refreshMetadata) assert.equal(errorInfo(code).retriable, true, `code ${code}`);
    }
  });

  it('names unknown codes and never retries them', () => {
    assert.deepEqual(errorInfo(999), { code: 999, name: 'UNKNOWN_ERROR_CODE_999', retriable: false, refreshMetadata: false });
    assert.equal(errorInfo(-2).name, 'UNKNOWN_ERROR_CODE_-2');
  });
});

describe('brokerError', () => {
  it('builds a BrokerError with the code, name, retriable flag and broker message', () => {
    const error = brokerError(ErrorCode.NOT_LEADER_OR_FOLLOWER, 'leader moved');
    assert.ok(error instanceof BrokerError);
    assert.ok(error instanceof KafkaProducerError);
    assert.equal(error.code, 'ERR_BROKER');
    assert.equal(error.errorCode, 6);
    assert.equal(error.errorName, 'NOT_LEADER_OR_FOLLOWER');
    assert.equal(error.retriable, true);
    assert.match(error.message, /6 NOT_LEADER_OR_FOLLOWER: leader moved/);
  });

  it('works without a message and for unknown codes', () => {
    const fatal = brokerError(ErrorCode.MESSAGE_TOO_LARGE);
    assert.equal(fatal.retriable, false);
    assert.equal(fatal.message, 'broker error 10 MESSAGE_TOO_LARGE');
    assert.equal(brokerError(500, null).errorName, 'UNKNOWN_ERROR_CODE_500');
  });
});

describe('transaction error codes', () => {
  it('has every transaction error at its Errors.java number', () => {
    const expected: Record<string, number> = {
      COORDINATOR_LOAD_IN_PROGRESS: 14,
      COORDINATOR_NOT_AVAILABLE: 15,
      NOT_COORDINATOR: 16,
      OUT_OF_ORDER_SEQUENCE_NUMBER: 45,
      DUPLICATE_SEQUENCE_NUMBER: 46,
      INVALID_PRODUCER_EPOCH: 47,
      INVALID_TXN_STATE: 48,
      INVALID_PRODUCER_ID_MAPPING: 49,
      INVALID_TRANSACTION_TIMEOUT: 50,
      CONCURRENT_TRANSACTIONS: 51,
      TRANSACTION_COORDINATOR_FENCED: 52,
      TRANSACTIONAL_ID_AUTHORIZATION_FAILED: 53,
      OPERATION_NOT_ATTEMPTED: 55,
      UNKNOWN_PRODUCER_ID: 59,
      PRODUCER_FENCED: 90,
      TRANSACTIONAL_ID_NOT_FOUND: 105,
      TRANSACTION_ABORTABLE: 120,
    };
    for (const [name, code] of Object.entries(expected)) {
      assert.equal(ErrorCode[name as keyof typeof ErrorCode], code, name);
    }
  });
});

describe('transactionErrorCategory (KIP-1050, the Java TransactionManager)', () => {
  it('sends the coordinator errors to a new FindCoordinator', () => {
    assert.equal(transactionErrorCategory(ErrorCode.NOT_COORDINATOR), 'refresh-coordinator');
    assert.equal(transactionErrorCategory(ErrorCode.COORDINATOR_NOT_AVAILABLE), 'refresh-coordinator');
  });

  it('retries what the Java client re-enqueues', () => {
    for (const code of [ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, ErrorCode.CONCURRENT_TRANSACTIONS, ErrorCode.REQUEST_TIMED_OUT]) {
      assert.equal(transactionErrorCategory(code), 'retriable', errorInfo(code).name);
      assert.equal(transactionErrorCategory(code, 'produce'), 'retriable', errorInfo(code).name);
    }
    assert.equal(transactionErrorCategory(ErrorCode.NOT_LEADER_OR_FOLLOWER, 'produce'), 'retriable');
  });

  it('is fatal for fencing, authorization of the transactional id and version errors, wherever they come from', () => {
    const fatal = [
      ErrorCode.PRODUCER_FENCED,
      ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
      ErrorCode.INVALID_PRODUCER_ID_MAPPING,
      ErrorCode.UNSUPPORTED_VERSION,
      ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
    ];
    for (const code of fatal) {
      assert.equal(transactionErrorCategory(code), 'fatal', errorInfo(code).name);
      assert.equal(transactionErrorCategory(code, 'produce'), 'fatal', errorInfo(code).name);
    }
  });

  it('tells coordinator answers from Produce answers where the Java client does', () => {
    // From a coordinator: another producer owns the id, or the state machine is broken; from a leader: abort.
    for (const code of [ErrorCode.INVALID_PRODUCER_EPOCH, ErrorCode.INVALID_TXN_STATE]) {
      assert.equal(transactionErrorCategory(code), 'fatal', errorInfo(code).name);
      assert.equal(transactionErrorCategory(code, 'produce'), 'abortable', errorInfo(code).name);
    }
    assert.equal(transactionErrorCategory(ErrorCode.TRANSACTION_COORDINATOR_FENCED), 'fatal');
    assert.equal(transactionErrorCategory(ErrorCode.INVALID_TRANSACTION_TIMEOUT), 'fatal');
  });

  it('aborts on the abortable coordinator answers and on any other failed batch', () => {
    const coordinator = [
      ErrorCode.TRANSACTION_ABORTABLE,
      ErrorCode.UNKNOWN_PRODUCER_ID,
      ErrorCode.TOPIC_AUTHORIZATION_FAILED,
      ErrorCode.OPERATION_NOT_ATTEMPTED,
      ErrorCode.GROUP_AUTHORIZATION_FAILED,
      ErrorCode.UNKNOWN_MEMBER_ID,
      ErrorCode.ILLEGAL_GENERATION,
      ErrorCode.FENCED_INSTANCE_ID,
    ];
    for (const code of coordinator) assert.equal(transactionErrorCategory(code), 'abortable', errorInfo(code).name);
    const produce = [
      ErrorCode.TRANSACTION_ABORTABLE,
      ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
      ErrorCode.UNKNOWN_PRODUCER_ID,
      ErrorCode.TOPIC_AUTHORIZATION_FAILED,
      ErrorCode.MESSAGE_TOO_LARGE,
      ErrorCode.INVALID_RECORD,
    ];
    for (const code of produce) assert.equal(transactionErrorCategory(code, 'produce'), 'abortable', errorInfo(code).name);
  });

  it('is fatal for unknown codes and refuses NONE', () => {
    assert.equal(transactionErrorCategory(9999), 'fatal');
    assert.equal(transactionErrorCategory(ErrorCode.UNKNOWN_SERVER_ERROR), 'fatal');
    assert.throws(() => transactionErrorCategory(ErrorCode.NONE), RangeError);
  });
});
