/**
 * handlers/clients/firehose.ts: the PutRecordBatch adapter. AWS is mocked at the SDK client only.
 */
import { FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { mockClient } from 'aws-sdk-client-mock';
import { sendTo } from '../../handlers/clients/firehose';

const firehose = mockClient(FirehoseClient);
const records = (n: number) => Array.from({ length: n }, (_, i) => Buffer.from(`{"i":${i}}\n`));

beforeEach(() => firehose.reset());
afterAll(() => firehose.restore());

describe('sendTo', () => {
  it('sends every record, in order, to the named delivery stream', async () => {
    // Prepare
    firehose.on(PutRecordBatchCommand).resolves({ FailedPutCount: 0, RequestResponses: [{ RecordId: 'a' }, { RecordId: 'b' }] });
    const input = records(2);
    // Act
    const out = await sendTo('clickstream-events-test')(input, 10_000);
    // Assess
    const calls = firehose.commandCalls(PutRecordBatchCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0].input).toEqual({
      DeliveryStreamName: 'clickstream-events-test',
      Records: [{ Data: input[0] }, { Data: input[1] }],
    });
    expect(out).toEqual({ failed: [], errorCodes: [] });
  });

  it('maps FailedPutCount and per-record ErrorCode to failed indexes', async () => {
    // Prepare: records 1 and 3 of 4 failed
    firehose.on(PutRecordBatchCommand).resolves({
      FailedPutCount: 2,
      RequestResponses: [
        { RecordId: 'r0' },
        { ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'Slow down.' },
        { RecordId: 'r2' },
        { ErrorCode: 'InternalFailure', ErrorMessage: 'Internal' },
      ],
    });
    // Act
    const out = await sendTo('events')(records(4), 10_000);
    // Assess
    expect(out).toEqual({ failed: [1, 3], errorCodes: ['ServiceUnavailableException', 'InternalFailure'] });
  });

  it('sends to the stream it was made for (events and rejects are separate)', async () => {
    // Prepare
    firehose.on(PutRecordBatchCommand).resolves({ FailedPutCount: 0, RequestResponses: [{ RecordId: 'x' }] });
    // Act
    await sendTo('events-stream')(records(1), 10_000);
    await sendTo('rejects-stream')(records(1), 10_000);
    // Assess
    expect(firehose.commandCalls(PutRecordBatchCommand).map((c) => c.args[0].input.DeliveryStreamName)).toEqual([
      'events-stream',
      'rejects-stream',
    ]);
  });

  it('lets a failed call throw, so the retry loop retries the whole batch', async () => {
    firehose.on(PutRecordBatchCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    await expect(sendTo('events')(records(1), 10_000)).rejects.toMatchObject({ name: 'ThrottlingException' });
  });
});
